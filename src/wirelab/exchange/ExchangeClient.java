package wirelab.exchange;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.gson.stream.JsonWriter;

import wirelab.AtomicFile;
import wirelab.Flags;
import wirelab.Sockets;

/**
 * The BetaCrew exchange client: gets every packet of the server's book, once, in order.
 *
 * <ol>
 * <li>Stream: send call type 1 and read until the server closes. TCP may split or join
 *     packets anywhere, so the bytes are cut into 17-byte packets by count, never by read.
 * <li>Gaps: every sequence from 1 to the highest seen that did not arrive is missing (the
 *     server never drops the last packet, so the highest seen is the last).
 * <li>Resend: ask for all missing packets at once, one virtual thread and one connection per
 *     request, each with a deadline and bounded retries, so k gaps cost about one round trip.
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

    public record Options(String host, int port, Path out, int timeoutMs, int retries, int concurrency, int maxPackets) {
        public static Options defaults() {
            return new Options("127.0.0.1", 3000, Path.of("output.json"), 5_000, 3, 0, 5_000_000);
        }
        public Options withServer(int port) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets);
        }
        public Options withOut(Path out) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets);
        }
        public Options withTimeout(int timeoutMs, int retries) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets);
        }
        public Options withConcurrency(int concurrency) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets);
        }
        public Options withMaxPackets(int maxPackets) {
            return new Options(host, port, out, timeoutMs, retries, concurrency, maxPackets);
        }
    }

    /** What one run did; printed as one line whether it succeeded or not. */
    public record Summary(int receivedInStream, int missing, int recovered, int retries, long elapsedMs, long recoveryMs) {
        @Override
        public String toString() {
            return "received " + receivedInStream + " in stream, " + missing + " missing, " + recovered
                    + " recovered, " + retries + " retries, " + elapsedMs + " ms (" + recoveryMs + " ms after the stream)";
        }
    }

    /** The run could not produce a complete output; nothing was written. */
    public static final class IncompleteException extends IOException {
        private static final long serialVersionUID = 1L;
        public IncompleteException(String message) {
            super(message);
        }
    }

    private final Options options;
    private final long startedNanos = System.nanoTime();
    /**
     * Every packet we hold: the one with sequence s at index s - 1. Only the run's own thread
     * writes it; resend threads hand their packet back instead of storing it themselves.
     */
    private Packet[] bySequence = new Packet[1024];
    private int highestSequence;
    private int receivedInStream;
    private int missing;
    private int recovered;
    private long streamEndedNanos;
    private final AtomicInteger retries = new AtomicInteger();

    public ExchangeClient(Options options) {
        this.options = options;
    }

    /** Streams, recovers every gap, writes the output. Throws when the output would be incomplete. */
    public Summary run() throws IOException {
        AtomicFile.removeStaleTemps(options.out());   // left by a run that was killed while writing
        streamAllPackets();
        streamEndedNanos = System.nanoTime();
        List<Integer> missingSequences = new ArrayList<>();
        for (int sequence = 1; sequence <= highestSequence; sequence++) {
            if (bySequence[sequence - 1] == null) {
                missingSequences.add(sequence);
            }
        }
        missing = missingSequences.size();
        log.log(INFO, "stream ended: " + receivedInStream + " packets, highest sequence " + highestSequence
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

    public Summary summary() {
        long now = System.nanoTime();
        return new Summary(receivedInStream, missing, recovered, retries.get(), (now - startedNanos) / 1_000_000,
                streamEndedNanos == 0 ? 0 : (now - streamEndedNanos) / 1_000_000);
    }

    // --- 1. the stream --------------------------------------------------------------------

    /** Reads the whole stream into {@link #bySequence}. */
    private void streamAllPackets() throws IOException {
        long deadline = System.nanoTime() + options.timeoutMs() * 1_000_000L;
        try (Socket socket = connect(deadline)) {
            socket.getOutputStream().write(Packet.Request.streamAllPackets().encode());
            InputStream in = socket.getInputStream();
            byte[] chunk = new byte[64 * 1024];
            int filled = 0;          // bytes in chunk not yet cut into packets
            long streamOffset = 0;   // where chunk[0] stands in the whole stream
            while (true) {
                int n = Sockets.readBefore(deadline, socket, in, chunk, filled, chunk.length - filled, "the stream");
                if (n < 0) {
                    break;           // the server closed: the stream is over
                }
                filled += n;
                int whole = filled - filled % Packet.SIZE;
                for (int offset = 0; offset < whole; offset += Packet.SIZE) {
                    Packet packet = Packet.decode(chunk, offset, streamOffset + offset);
                    if (keep(packet)) {
                        receivedInStream++;
                    }
                }
                // the bytes of a packet cut in two by TCP wait at the front for the rest
                System.arraycopy(chunk, whole, chunk, 0, filled - whole);
                filled -= whole;
                streamOffset += whole;
            }
            if (filled > 0) {
                throw new ProtocolException("stream ended in the middle of a packet at byte " + streamOffset
                        + ": got " + filled + " of " + Packet.SIZE + " bytes ("
                        + HexFormat.ofDelimiter(" ").formatHex(chunk, 0, filled) + ")");
            }
            if (receivedInStream == 0) {   // the last packet is never dropped, so a stream has at least one
                throw new ProtocolException("the server closed the stream without sending a single packet");
            }
        }
    }

    /**
     * Adds a packet; false for an exact duplicate. Two different packets with one sequence are
     * an error, and so is a sequence past --max-packets: sequences run 1..N with no holes in
     * the book, so a larger one means a book we refuse to hold (or a hostile server).
     */
    private boolean keep(Packet packet) throws ProtocolException {
        int sequence = packet.sequence();
        if (sequence > options.maxPackets()) {
            throw new ProtocolException("sequence " + sequence + " means a book of more than " + options.maxPackets()
                    + " packets (--max-packets); refusing to hold it");
        }
        if (sequence > bySequence.length) {
            bySequence = Arrays.copyOf(bySequence, Math.max(sequence, Math.min(options.maxPackets(), 2 * bySequence.length)));
        }
        Packet earlier = bySequence[sequence - 1];
        if (earlier == null) {
            bySequence[sequence - 1] = packet;
            highestSequence = Math.max(highestSequence, sequence);
            return true;
        }
        if (!earlier.equals(packet)) {
            throw new ProtocolException("sequence " + packet.sequence() + " arrived twice with different contents: "
                    + earlier + " and " + packet);
        }
        log.log(INFO, "ignored a duplicate of sequence " + packet.sequence());
        return false;
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
                        return recoverOne(sequence);
                    } finally {
                        permits.release();
                    }
                }));
            }
        }   // close() waits for every request to finish
        for (Map.Entry<Integer, Future<Packet>> answer : answers.entrySet()) {
            Future<Packet> future = answer.getValue();
            if (future.state() == Future.State.SUCCESS) {
                keep(future.resultNow());
                recovered++;
            } else {
                failures.put(answer.getKey(), future.exceptionNow().getMessage());
            }
        }
        return failures;
    }

    /** One sequence, with bounded retries and backoff; the exception says why the last attempt failed. */
    private Packet recoverOne(int sequence) throws IOException {
        String lastReason = null;
        for (int attempt = 0; attempt <= options.retries(); attempt++) {
            if (attempt > 0) {
                retries.incrementAndGet();
                backOff(attempt);
            }
            try {
                Packet packet = requestResend(sequence);
                log.log(INFO, "recovered sequence " + sequence);
                return packet;
            } catch (IOException e) {
                lastReason = e.getMessage() == null ? e.toString() : e.getMessage();
                log.log(WARNING, "resend of sequence " + sequence + ", attempt " + (attempt + 1) + " of "
                        + (options.retries() + 1) + ": " + lastReason);
            }
        }
        throw new IOException(lastReason + ", after " + (options.retries() + 1) + " attempts");
    }

    /** One call type 2 request on its own connection; the answer must be the sequence asked for. */
    private Packet requestResend(int sequence) throws IOException {
        long deadline = System.nanoTime() + options.timeoutMs() * 1_000_000L;
        try (Socket socket = connect(deadline)) {
            socket.getOutputStream().write(Packet.Request.resendPacket(sequence).encode());
            byte[] bytes = new byte[Packet.SIZE];
            int filled = 0;
            while (filled < Packet.SIZE) {
                int n = Sockets.readBefore(deadline, socket, socket.getInputStream(), bytes, filled, Packet.SIZE - filled,
                        "resend of sequence " + sequence);
                if (n < 0) {
                    throw new EOFException("server closed after " + filled + " of the " + Packet.SIZE
                            + " bytes of the resent packet");
                }
                filled += n;
            }
            Packet packet = Packet.decode(bytes);
            if (packet.sequence() != sequence) {
                throw new ProtocolException("asked for sequence " + sequence + ", got sequence " + packet.sequence());
            }
            return packet;
        }   // the original server never closes after a resend: we do
    }

    /** 100 ms, 200, 400, 800, then 1 s for every later attempt (a shift past 5 would only overflow, at 58). */
    static long backoffMs(int attempt) {
        return attempt >= 5 ? 1_000 : Math.min(1_000, 50L << attempt);
    }

    private static void backOff(int attempt) {
        long base = backoffMs(attempt);
        try {
            Thread.sleep(base + ThreadLocalRandom.current().nextLong(base / 2 + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- the socket, with a deadline for the whole request -----------------------------------

    private Socket connect(long deadline) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(options.host(), options.port()), Sockets.remainingMs(deadline, "connect"));
            return socket;
        } catch (IOException e) {
            socket.close();
            throw new IOException("cannot connect to " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        }
    }

    // --- 3. the output ----------------------------------------------------------------------

    /** Writes sequences 1..highest as a JSON array, atomically: see {@link AtomicFile}. */
    private void writeOutput() throws IOException {
        AtomicFile.write(options.out(), file -> {
            try (JsonWriter json = new JsonWriter(new UnsynchronizedWriter(file))) {
                json.setIndent("  ");
                json.beginArray();
                for (int sequence = 1; sequence <= highestSequence; sequence++) {
                    Packet packet = bySequence[sequence - 1];
                    json.beginObject()
                        .name("symbol").value(packet.symbol())
                        .name("buySellIndicator").value(String.valueOf(packet.buySellIndicator()))
                        .name("quantity").value(packet.quantity())
                        .name("price").value(packet.price())
                        .name("sequence").value(packet.sequence())
                        .endObject();
                }
                json.endArray();
            }
        });
        log.log(INFO, "wrote " + highestSequence + " packets to " + options.out());
    }

    /**
     * gson calls write() several times for every value; the JDK's writers take a lock on each
     * call, which cost more than the writing itself (half the time of a million-packet run, by
     * JFR). This one gathers characters in a StringBuilder and hands the file 64 KiB at a time.
     */
    private static final class UnsynchronizedWriter extends Writer {
        private final OutputStream out;
        private final StringBuilder chunk = new StringBuilder(1 << 16);

        UnsynchronizedWriter(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(char[] characters, int offset, int length) throws IOException {
            chunk.append(characters, offset, length);
            spillIfFull();
        }

        @Override
        public void write(String text, int offset, int length) throws IOException {
            chunk.append(text, offset, offset + length);
            spillIfFull();
        }

        @Override
        public void write(int character) throws IOException {
            chunk.append((char) character);
            spillIfFull();
        }

        private void spillIfFull() throws IOException {
            if (chunk.length() >= 1 << 16) {
                flush();
            }
        }

        @Override
        public void flush() throws IOException {
            out.write(chunk.toString().getBytes(StandardCharsets.UTF_8));
            chunk.setLength(0);
        }

        @Override
        public void close() throws IOException {
            flush();
            out.close();
        }
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
              --help              this text
            exit status: 0 the output is complete; 1 it could not be (nothing written); 2 bad flags""";

    public static void main(String[] args) {
        Options options;
        try {
            Flags flags = Flags.parse(args, Set.of("host", "port", "out", "timeout-ms", "retries", "concurrency", "max-packets"));
            if (flags.help()) {
                System.out.println(USAGE);
                return;
            }
            Options defaults = Options.defaults();
            options = new Options(
                    flags.string("host", defaults.host()),
                    (int) flags.integer("port", defaults.port(), 1, 65535),
                    Path.of(flags.string("out", defaults.out().toString())),
                    (int) flags.integer("timeout-ms", defaults.timeoutMs(), 1, 3_600_000),
                    (int) flags.integer("retries", defaults.retries(), 0, 100),
                    (int) flags.integer("concurrency", defaults.concurrency(), 1, 10_000),
                    (int) flags.integer("max-packets", defaults.maxPackets(), 1, Integer.MAX_VALUE));
        } catch (IllegalArgumentException e) {
            System.err.println("exchange client: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        ExchangeClient client = new ExchangeClient(options);
        try {
            Summary summary = client.run();
            System.out.println(summary + "; wrote " + options.out());
        } catch (IOException e) {
            System.out.println(client.summary() + "; wrote nothing");
            System.err.println("exchange client: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            System.exit(1);
        }
    }
}
