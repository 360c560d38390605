package wirelab.exchange;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.io.IOException;
import java.io.InputStream;
import java.net.ProtocolException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ExecutionException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import wirelab.AtomicFile;
import wirelab.Flags;
import wirelab.Sockets;
import wirelab.Trace;

/**
 * The BetaCrew exchange client: gets every packet of the server's book, once, in order.
 *
 * <ol>
 * <li>Streams: send call type 1 on several connections at once (five by default) and read each
 *     until the server closes it, the others only when stream 1 shows they can add something;
 *     keep the union. TCP may split or join packets anywhere, so the bytes are cut into
 *     17-byte packets by count, never by read.
 * <li>Gaps: every sequence from 1 to the highest seen that did not arrive is missing. The
 *     highest seen is the last unless every stream dropped the last (the original does drop
 *     it, with p = 1/4 a stream); the summary says how likely that was. All missing packets
 *     are asked for at once, one virtual thread and one connection per resend request, each
 *     with a deadline and bounded retries, so k gaps cost about one round trip.
 * <li>Output: a JSON array ordered by sequence, written to a temp file and moved into place
 *     atomically, and only when it is complete.
 * </ol>
 *
 * <p>Why one connection per resend rather than pipelining them on one: the original server
 * answers each resend on its connection and never closes it, so one connection per request
 * is what every client written for it does; a connection that fails costs one sequence, not
 * all of them; and a timeout or a retry is simply "close this socket and try again".
 * Packet layout and the 2-byte request are in {@link Packet}.
 */
public final class ExchangeClient {

    private static final System.Logger log = System.getLogger("exchange-client");

    public record Options(String host, int port, Path out, int timeoutMs, int retries, int concurrency, int maxPackets,
                          int streams) {
        public static Options defaults() {
            return new Options("127.0.0.1", 3000, Path.of("output.json"), 5_000, 3, 0, 5_000_000, DEFAULT_STREAMS);
        }
        public Options withStreams(int streams) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets, streams);
        }
        public Options withServer(int port) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets, streams);
        }
        public Options withOut(Path out) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets, streams);
        }
        public Options withTimeout(int timeoutMs, int retries) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets, streams);
        }
        public Options withConcurrency(int concurrency) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets, streams);
        }
        public Options withMaxPackets(int maxPackets) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets, streams);
        }
    }

    /**
     * Stream-all requests sent at once by default. Against the original, which drops the last
     * packet too with p = 1/4 per stream, all of them miss it with probability (1/4)^5 = 0.1 %.
     */
    static final int DEFAULT_STREAMS = 5;

    /** The run could not produce a complete output; nothing was written. */
    public static final class IncompleteException extends IOException {
        private static final long serialVersionUID = 1L;
        public IncompleteException(String message) {
            super(message);
        }
    }

    private final Options options;
    private final long startedNanos = System.nanoTime();
    private final Book book;
    private final AtomicInteger receivedInStream = new AtomicInteger();   // distinct packets the streams brought
    private int streamsCompleted;
    private int streamsClosedUnread;
    /** Set when stream 1 ends: whether the other streams are worth reading (see {@link #streamAllPackets}). */
    private final CompletableFuture<Boolean> otherStreamsNeeded = new CompletableFuture<>();
    private int lastSeenIn;
    private double dropRate;
    private int missing;
    private int recovered;
    private long streamEndedNanos;
    private final AtomicInteger retries = new AtomicInteger();
    private final Resend resend;

    public ExchangeClient(Options options) {
        this.options = options;
        this.book = new Book(options.maxPackets());
        this.resend = new Resend(options, retries);
    }

    /** Streams, recovers every gap, writes the output. Throws when the output would be incomplete. */
    public ClientSummary run() throws IOException {
        AtomicFile.removeStaleTemps(options.out());   // left by a run that was killed while writing
        streamAllPackets();
        streamEndedNanos = System.nanoTime();
        List<Integer> missingSequences = new ArrayList<>();
        int highestSequence = book.highest();
        for (int sequence = 1; sequence <= highestSequence; sequence++) {
            if (book.get(sequence) == null) {
                missingSequences.add(sequence);
            }
        }
        missing = missingSequences.size();
        log.log(INFO, "streams ended: " + receivedInStream + " distinct packets in " + streamsCompleted
                + (streamsClosedUnread > 0 ? " (" + streamsClosedUnread + " more closed unread: stream 1 dropped nothing of "
                        + highestSequence + ")" : "") + ", highest sequence " + highestSequence
                + ", missing " + firstFew(missingSequences));
        List<Integer> unaskable = missingSequences.stream().filter(s -> s > Packet.Request.MAX_RESEND_SEQ).toList();
        if (!unaskable.isEmpty()) {
            throw new IncompleteException(unaskable.size() + " missing sequences are above " + Packet.Request.MAX_RESEND_SEQ
                    + " (" + firstFew(unaskable) + "): resendSeq is one signed byte, so only sequences 1.."
                    + Packet.Request.MAX_RESEND_SEQ + " can be asked for; no output was written");
        }
        Map<Integer, String> failures = recover(missingSequences);
        if (!failures.isEmpty()) {
            throw new IncompleteException("could not recover " + failures.size() + " of " + missing
                    + " missing packets, so no output was written: " + describe(failures));
        }
        writeOutput();
        return summary();
    }

    public ClientSummary summary() {
        long now = System.nanoTime();
        return new ClientSummary(receivedInStream.get(), streamsCompleted, book.highest(), lastSeenIn, dropRate, missing, recovered,
                retries.get(), (now - startedNanos) / 1_000_000, streamEndedNanos == 0 ? 0 : (now - streamEndedNanos) / 1_000_000);
    }

    // --- 1. the streams, all at once ----------------------------------------------------------

    /** What one stream-all request brought: its packets, duplicates included, and the highest sequence among them. */
    private record StreamResult(int packets, int highest) {
    }

    /**
     * Sends call type 1 on {@code --streams} connections at once and keeps the union of what they
     * bring. The protocol has no "this is the last" signal, and the original drops the last packet
     * too, with p = 1/4 per stream; each stream drops anew, so the highest sequence seen in any
     * stream misses the true end only if every stream dropped it: (1/4)^5 with the default five.
     * Probing past the end is no answer, since a resend of a sequence the original lacks kills it.
     * The streams run concurrently, so this costs about one round trip. A stream that fails to
     * connect or times out is left out when others completed; malformed data fails the run.
     *
     * <p>The other streams are paid for only when they can add something. All are opened and
     * asked at once, but only stream 1 is read at first; the others wait, their bytes held back
     * by TCP. When stream 1 ends, they are read in full if it failed, if it dropped any packet
     * (this server drops: the others fill its gaps, and its last packet may be gone too), or if
     * the book is under {@link #SMALL_BOOK} packets (reading them costs nothing worth saving).
     * Else, a big book with not one drop in stream 1, they are closed unread: a server that
     * dropped with any p worth fearing would have dropped in a stream that long (with p = 1/4,
     * at 10,000 packets, (3/4)^10000), so the chance that it dropped only the last one is below
     * today's (1/4)^5 for every p. A million-packet book then costs one stream, not five.
     */
    private void streamAllPackets() throws IOException {
        List<Future<StreamResult>> streams = new ArrayList<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 1; i <= options.streams(); i++) {
                int stream = i;
                streams.add(threads.submit(() -> streamOnce(stream)));
            }
        }   // close() waits for every stream to end
        List<StreamResult> completed = new ArrayList<>();
        IOException firstFailure = null;
        for (Future<StreamResult> stream : streams) {
            if (stream.state() == Future.State.SUCCESS && stream.resultNow() == null) {
                streamsClosedUnread++;
                continue;
            }
            if (stream.state() == Future.State.SUCCESS) {
                completed.add(stream.resultNow());
                continue;
            }
            IOException failure = stream.exceptionNow() instanceof IOException e ? e : new IOException(stream.exceptionNow());
            if (failure instanceof ProtocolException) {
                throw failure;   // the server sent something that is not the protocol: no union can mend that
            }
            log.log(WARNING, "a stream failed and is left out: " + failure.getMessage());
            firstFailure = firstFailure == null ? failure : firstFailure;
        }
        if (completed.isEmpty()) {
            throw firstFailure;
        }
        streamsCompleted = completed.size();
        lastSeenIn = (int) completed.stream().filter(result -> result.highest() == book.highest()).count();
        long arrived = completed.stream().mapToLong(StreamResult::packets).sum();
        dropRate = Math.max(0, 1 - (double) arrived / ((long) book.highest() * streamsCompleted));
    }

    /** Below this many packets in stream 1, the other streams are read whatever stream 1 showed. */
    static final int SMALL_BOOK = 10_000;

    /** One stream-all request on its own connection; stream 1 then says whether the others are read. */
    private StreamResult streamOnce(int stream) throws IOException {
        if (stream != 1) {
            return streamOnce(stream, true);
        }
        StreamResult first = null;
        try {
            first = streamOnce(1, false);
            return first;
        } finally {   // a failed stream 1 leaves every doubt: the others are read
            otherStreamsNeeded.complete(first == null || first.highest() < SMALL_BOOK || first.packets() < first.highest());
        }
    }

    /**
     * One stream-all request on its own connection, cut into packets as the bytes come; null
     * when {@code mayBeUnneeded} and stream 1 found it unneeded, so it was closed unread.
     */
    private StreamResult streamOnce(int stream, boolean mayBeUnneeded) throws IOException {
        long deadline = System.nanoTime() + options.timeoutMs() * 1_000_000L;
        String what = options.streams() == 1 ? "the stream" : "stream " + stream;
        int packets = 0;
        int highest = 0;
        try (Socket socket = Sockets.connect(options.host(), options.port(), deadline)) {
            socket.getOutputStream().write(Packet.Request.streamAllPackets().encode());
            String server = options.host() + ":" + options.port() + (options.streams() == 1 ? "" : " #" + stream);
            if (Trace.on()) {
                Trace.sent(server, Packet.Request.streamAllPackets().hexByField(), Packet.Request.streamAllPackets().meaning());
            }
            if (mayBeUnneeded && !awaitNeeded(deadline, what)) {
                return null;
            }
            InputStream in = socket.getInputStream();
            byte[] chunk = new byte[64 * 1024];
            int filled = 0;          // bytes in chunk not yet cut into packets
            long streamOffset = 0;   // where chunk[0] stands in the whole stream
            while (true) {
                int n = Sockets.readBefore(deadline, socket, in, chunk, filled, chunk.length - filled, what);
                if (n < 0) {
                    break;           // the server closed: the stream is over
                }
                filled += n;
                int whole = filled - filled % Packet.SIZE;
                if (Trace.on()) {
                    Packet.trace(server, true, chunk, 0, whole);
                }
                receivedInStream.addAndGet(book.keep(chunk, whole, streamOffset));
                for (int offset = 0; offset < whole; offset += Packet.SIZE) {
                    highest = Math.max(highest, Packet.sequenceAt(chunk, offset));
                }
                packets += whole / Packet.SIZE;
                // the bytes of a packet cut in two by TCP wait at the front for the rest
                System.arraycopy(chunk, whole, chunk, 0, filled - whole);
                filled -= whole;
                streamOffset += whole;
            }
            if (filled > 0) {
                throw new ProtocolException(what + " ended in the middle of a packet at byte " + streamOffset
                        + ": got " + filled + " of " + Packet.SIZE + " bytes ("
                        + HexFormat.ofDelimiter(" ").formatHex(chunk, 0, filled) + ")");
            }
            if (packets == 0) {   // even the original sends all but the dropped ones: 14 drops in a row is (1/4)^14
                throw new ProtocolException("the server closed " + what + " without sending a single packet");
            }
        }
        return new StreamResult(packets, highest);
    }

    /** Waits, within the stream's deadline, for stream 1 to say whether this stream is needed. */
    private boolean awaitNeeded(long deadline, String what) throws IOException {
        try {
            return otherStreamsNeeded.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new SocketTimeoutException(what + ": stream 1 did not end within " + options.timeoutMs() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what + " interrupted");
        } catch (ExecutionException e) {
            throw new IllegalStateException("never completed exceptionally", e);
        }
    }

    // --- 2. the gaps, all at once -----------------------------------------------------------

    /**
     * Asks for every missing sequence at once, one virtual thread each, and stores what comes
     * back. Returns the sequences that could not be had, with why.
     */
    private Map<Integer, String> recover(List<Integer> missingSequences) throws ProtocolException {
        Map<Integer, String> failures = new TreeMap<>();
        if (missingSequences.isEmpty()) {
            return failures;
        }
        int inFlight = options.concurrency() > 0 ? options.concurrency() : missingSequences.size();
        Semaphore permits = new Semaphore(inFlight);
        log.log(INFO, "asking for " + missingSequences.size() + " missing packets, " + inFlight + " at a time");
        Map<Integer, Future<Packet>> answers = new TreeMap<>();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int sequence : missingSequences) {
                answers.put(sequence, threads.submit(() -> {
                    permits.acquireUninterruptibly();
                    try {
                        return resend.recover(sequence);
                    } finally {
                        permits.release();
                    }
                }));
            }
        }   // close() waits for every request to finish
        for (Map.Entry<Integer, Future<Packet>> answer : answers.entrySet()) {
            Future<Packet> future = answer.getValue();
            if (future.state() == Future.State.SUCCESS) {
                book.keep(future.resultNow().encode(), Packet.SIZE, 0);
                recovered++;
            } else {
                failures.put(answer.getKey(), future.exceptionNow().getMessage());
            }
        }
        return failures;
    }

    // --- 3. the output ----------------------------------------------------------------------

    /** Writes sequences 1..highest as a JSON array, atomically ({@link BookFile}). */
    private void writeOutput() throws IOException {
        book.writeTo(options.out());
        log.log(INFO, "wrote " + book.highest() + " packets to " + options.out());
    }

    private static String firstFew(List<Integer> sequences) {
        return sequences.size() <= 20 ? sequences.toString()
                : sequences.subList(0, 20).toString().replace("]", ", ... " + (sequences.size() - 20) + " more]");
    }

    private static String describe(Map<Integer, String> failures) {
        Map<Integer, String> sorted = new TreeMap<>(failures);
        List<String> lines = new ArrayList<>();
        sorted.forEach((sequence, reason) -> lines.add("sequence " + sequence + " (" + reason + ")"));
        return String.join(", ", lines);
    }

    // --- command line ---------------------------------------------------------------------

    private static final String USAGE = """
            usage: make run-client ARGS="[flags]"
              --host H            server address (default 127.0.0.1)
              --port N            server port (default 3000)
              --out FILE          where to write the JSON array (default output.json)
              --timeout-ms MS     deadline for each request, the stream included (default 5000)
              --retries N         extra attempts for a resend that fails (default 3)
              --concurrency N     most resends in flight (default: all at once;
                                  1 asks one at a time, as the seed clients do)
              --max-packets N     refuse a stream with more packets than this (default 5000000)
              --streams N         stream-all requests sent at once, whose union is the book
                                  (default 5). The protocol never says which packet is the
                                  last, and the original server drops the last one too, with
                                  p = 1/4 per stream: all N streams miss it with (1/4)^N,
                                  0.1 % for 5, 25 % for 1 (the seed clients' way)
              --trace             every request and packet on the wire, in hex and decoded, to stderr
              --help              this text
            exit status: 0 the output is complete; 1 it could not be (nothing written); 2 bad flags""";

    public static void main(String[] args) {
        Options options;
        try {
            Flags flags = Flags.parse(args, Set.of("host", "port", "out", "timeout-ms", "retries", "concurrency", "max-packets",
                    "streams"));
            if (flags.help()) {
                System.out.println(USAGE);
                return;
            }
            if (flags.trace()) {
                Trace.enable();
            }
            Options defaults = Options.defaults();
            options = new Options(
                    flags.string("host", defaults.host()),
                    (int) flags.integer("port", defaults.port(), 1, 65535),
                    Path.of(flags.string("out", defaults.out().toString())),
                    (int) flags.integer("timeout-ms", defaults.timeoutMs(), 1, 3_600_000),
                    (int) flags.integer("retries", defaults.retries(), 0, 100),
                    (int) flags.integer("concurrency", defaults.concurrency(), 1, 10_000),
                    (int) flags.integer("max-packets", defaults.maxPackets(), 1, Integer.MAX_VALUE),
                    (int) flags.integer("streams", defaults.streams(), 1, 100));
        } catch (IllegalArgumentException e) {
            System.err.println("exchange client: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        ExchangeClient client = new ExchangeClient(options);
        try {
            ClientSummary summary = client.run();
            System.out.println(summary + "; wrote " + options.out());
        } catch (IOException e) {
            System.out.println(client.summary() + "; wrote nothing");
            System.err.println("exchange client: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            System.exit(1);
        }
    }
}
