package wirelab.exchange;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.random.RandomGenerator;

import wirelab.Flags;
import wirelab.Sockets;
import wirelab.Trace;

/**
 * The BetaCrew mock exchange server, wire-compatible with the original Node {@code main.js}.
 *
 * <p>A client connects over TCP and sends 2-byte requests (layout in {@link Packet}):
 * <ul>
 * <li>call type 1, "stream all packets": the server writes the order book in sequence order,
 *     dropping some packets on purpose, then closes the connection;
 * <li>call type 2, "resend packet": the server writes the one packet whose sequence is
 *     {@code resendSeq} and keeps the connection open for more requests.
 * </ul>
 * What the original leaves undefined, we decide here: requests are read as exactly 2 bytes
 * from each connection's own stream (the original shares one buffer between all clients), an
 * unknown call type or a sequence not in the book closes that one connection with a logged
 * reason (the original ignores the first and crashes on the second), and the last packet is
 * never dropped (the assignment promises it; the original's code does not keep the promise).
 *
 * <p>One virtual thread per connection, plain blocking reads and writes.
 */
public final class ExchangeServer implements AutoCloseable {

    private static final System.Logger log = System.getLogger("exchange-server");

    /** How the server behaves. {@link #original()} reproduces {@code main.js}. */
    public record Options(String host, int port, double dropProbability, Long seed, int packets,
                          int delayMs, int idleTimeoutMs) {
        public static Options original() {
            return new Options("127.0.0.1", 3000, 0.25, null, 0, 0, 30_000);
        }
        public Options withPort(int port) {
            return new Options(host, port, dropProbability, seed, packets, delayMs, idleTimeoutMs);
        }
        public Options withDrops(double probability, Long seed) {
            return new Options(host, port, probability, seed, packets, delayMs, idleTimeoutMs);
        }
        public Options withPackets(int packets) {
            return new Options(host, port, dropProbability, seed, packets, delayMs, idleTimeoutMs);
        }
        public Options withDelayMs(int delayMs) {
            return new Options(host, port, dropProbability, seed, packets, delayMs, idleTimeoutMs);
        }
        public Options withIdleTimeoutMs(int idleTimeoutMs) {
            return new Options(host, port, dropProbability, seed, packets, delayMs, idleTimeoutMs);
        }
    }

    /** The original's book: 14 packets over four symbols, exactly as {@code main.js} has it. */
    public static final List<Packet> ORIGINAL_BOOK = List.of(
            new Packet("AAPL", 'B', 50, 100, 1),
            new Packet("AAPL", 'B', 30, 98, 2),
            new Packet("AAPL", 'S', 20, 101, 3),
            new Packet("AAPL", 'S', 10, 102, 4),
            new Packet("META", 'B', 40, 50, 5),
            new Packet("META", 'S', 30, 55, 6),
            new Packet("META", 'S', 20, 57, 7),
            new Packet("MSFT", 'B', 25, 150, 8),
            new Packet("MSFT", 'S', 15, 155, 9),
            new Packet("MSFT", 'B', 20, 148, 10),
            new Packet("AMZN", 'B', 10, 3000, 11),
            new Packet("AMZN", 'B', 5, 2999, 12),
            new Packet("AMZN", 'S', 15, 3020, 13),
            new Packet("AMZN", 'S', 10, 3015, 14));

    public static final int MAX_GENERATED_PACKETS = 10_000_000;

    private final Options options;
    private final int bookSize;
    /** The whole book, already encoded: packet with sequence s starts at byte (s - 1) * 17. */
    private final byte[] encodedBook;
    private final ServerSocket serverSocket;
    private final Set<Socket> openConnections = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    private ExchangeServer(Options options) throws IOException {
        this.options = options;
        List<Packet> book = options.packets() > 0 ? generatedBook(options.packets()) : ORIGINAL_BOOK;
        this.bookSize = book.size();
        ByteBuffer encoded = ByteBuffer.allocate(bookSize * Packet.SIZE);
        book.forEach(packet -> packet.encodeInto(encoded));
        this.encodedBook = encoded.array();
        this.serverSocket = Sockets.listen(InetAddress.getByName(options.host()), options.port());
        this.acceptor = Thread.ofVirtual().name("exchange-acceptor")
                .start(() -> Sockets.acceptConnections(serverSocket, "exchange-client", this::serve, log));
    }

    /** Binds (port 0 picks a free one; see {@link #port()}) and starts accepting clients. */
    public static ExchangeServer start(Options options) throws IOException {
        ExchangeServer server = new ExchangeServer(options);
        log.log(INFO, "listening on " + options.host() + ":" + server.port()
                + (server.serverSocket.getInetAddress().isLoopbackAddress() ? " (loopback only; --host 0.0.0.0 exposes it)" : "")
                + " with " + server.bookSize
                + " packets, drop probability " + options.dropProbability()
                + (options.seed() == null ? "" : ", seed " + options.seed())
                + (options.delayMs() == 0 ? "" : ", " + options.delayMs() + " ms delay per response"));
        return server;
    }

    public int port() {
        return serverSocket.getLocalPort();
    }

    /** Connections being served right now, each on its own virtual thread. */
    public int openConnectionCount() {
        return openConnections.size();
    }

    /** Stops accepting and closes every open connection. */
    @Override
    public void close() {
        Sockets.closeQuietly(serverSocket);
        openConnections.forEach(Sockets::closeQuietly);
        try {
            acceptor.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.log(INFO, "stopped");
    }

    // One connection, top to bottom: read a 2-byte request, answer it, repeat until the
    // stream is sent, the client leaves, or it asks for something we cannot give.
    private void serve(Socket socket) {
        String client = socket.getInetAddress().getHostAddress() + ":" + socket.getPort();
        openConnections.add(socket);
        if (serverSocket.isClosed()) {   // accepted as close() ran: it may not have seen this one
            Sockets.closeQuietly(socket);
        }
        log.log(INFO, client + " connected");
        try (socket) {
            socket.setSoTimeout(options.idleTimeoutMs());
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();   // every answer is written whole, in one write
            byte[] requestBytes = new byte[Packet.Request.SIZE];
            while (true) {
                if (!readRequest(in, requestBytes, client)) {
                    return;
                }
                Packet.Request request = Packet.Request.decode(requestBytes);
                if (Trace.on()) {
                    Trace.received(client, request.hexByField(), request.meaning());
                }
                switch (request.callType()) {
                    case Packet.Request.STREAM_ALL_PACKETS -> {
                        // The wait for the client's FIN comes here, once streamAllPackets has
                        // returned, so a waiting connection no longer holds the stream's buffer.
                        if (streamAllPackets(out, client)) {
                            Sockets.closeAfterLastWord(socket, 2_000);
                        }
                        return;
                    }
                    case Packet.Request.RESEND_PACKET -> {
                        if (!resendPacket(out, request.resendSeq(), client)) {
                            return;
                        }
                    }
                    default -> {
                        log.log(WARNING, client + " sent unknown call type " + request.callType()
                                + " (expected 1 = stream all packets or 2 = resend packet); closing");
                        return;
                    }
                }
            }
        } catch (SocketTimeoutException e) {
            log.log(INFO, client + " sent nothing for " + options.idleTimeoutMs() + " ms; closing the idle connection");
        } catch (IOException e) {
            log.log(INFO, client + " went away: " + e.getMessage());
        } catch (RuntimeException e) {
            log.log(WARNING, client + ": unexpected error, closing: " + e.toString());
        } finally {
            openConnections.remove(socket);
        }
    }

    /** Reads exactly one request, however TCP splits it. false when the client closed cleanly. */
    private boolean readRequest(DataInputStream in, byte[] requestBytes, String client) throws IOException {
        int first = in.read();
        if (first < 0) {
            log.log(INFO, client + " closed the connection");
            return false;
        }
        requestBytes[0] = (byte) first;
        try {
            in.readFully(requestBytes, 1, 1);
        } catch (EOFException e) {
            log.log(WARNING, client + " closed after 1 of the 2 bytes of a request (callType " + requestBytes[0] + ")");
            return false;
        }
        return true;
    }

    /** A stream of a big book goes out this many bytes at a time: 964 whole packets, about 16 KiB. */
    private static final int STREAM_CHUNK_BYTES = 964 * Packet.SIZE;

    /**
     * Writes the book, less the packets dropped on purpose; false when the client went away
     * before it was all written. The encoded book is one array shared by every connection; a
     * stream copies the packets it keeps into a buffer sized to what it carries (238 bytes for
     * the original book, 16 KiB at most) and hands the socket whole buffers. A connection costs
     * what it sends, not the largest book there is.
     */
    private boolean streamAllPackets(OutputStream out, String client) {
        pause();
        RandomGenerator random = options.seed() == null ? new SplittableRandom() : new Random(options.seed());
        byte[] chunk = new byte[Math.min(encodedBook.length, STREAM_CHUNK_BYTES)];
        int filled = 0;
        List<Integer> firstDropped = new ArrayList<>();   // for the log line: the first 20 are enough
        int dropped = 0;
        int sent = 0;
        try {
            for (int sequence = 1; sequence <= bookSize; sequence++) {
                // The last packet is never dropped: it is how a client learns the highest sequence.
                boolean last = sequence == bookSize;
                if (!last && random.nextDouble() < options.dropProbability()) {
                    if (Trace.on()) {
                        Trace.sent(client, "(nothing)", "sequence " + sequence + " dropped on purpose");
                    }
                    dropped++;
                    if (firstDropped.size() < 20) {
                        firstDropped.add(sequence);
                    }
                    continue;
                }
                if (filled == chunk.length) {
                    out.write(chunk, 0, filled);
                    filled = 0;
                }
                System.arraycopy(encodedBook, (sequence - 1) * Packet.SIZE, chunk, filled, Packet.SIZE);
                if (Trace.on()) {
                    Packet.trace(client, false, chunk, filled, Packet.SIZE);
                }
                filled += Packet.SIZE;
                sent++;
            }
            out.write(chunk, 0, filled);
        } catch (IOException e) {
            // INFO, not WARNING: our own client closes the streams it no longer needs (see ExchangeClient)
            log.log(INFO, client + " went away during the stream, after " + (sent - filled / Packet.SIZE) + " of "
                    + (bookSize - dropped) + " packets were written: " + e.getMessage());
            return false;
        }
        log.log(INFO, client + " streamed " + sent + " packets, dropped " + dropped + " "
                + (dropped > firstDropped.size() ? firstDropped.toString().replace("]", ", ...]") : firstDropped) + "; closing");
        return true;
    }

    /** false when the sequence is not in the book and the connection must close. */
    private boolean resendPacket(OutputStream out, int resendSeq, String client) throws IOException {
        if (resendSeq < 1 || resendSeq > bookSize) {
            log.log(WARNING, client + " asked to resend sequence " + resendSeq + ", which is not in the book (1.."
                    + Math.min(bookSize, Packet.Request.MAX_RESEND_SEQ) + " can be asked for); closing");
            return false;
        }
        pause();
        out.write(encodedBook, (resendSeq - 1) * Packet.SIZE, Packet.SIZE);
        if (Trace.on()) {
            Packet.trace(client, false, encodedBook, (resendSeq - 1) * Packet.SIZE, Packet.SIZE);
        }
        log.log(INFO, client + " resent sequence " + resendSeq);
        return true;
    }

    private void pause() {
        if (options.delayMs() > 0) {
            try {
                Thread.sleep(options.delayMs());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A generated book for load: symbols cycle, sequences 1..n, values vary but repeat. */
    public static List<Packet> generatedBook(int n) {
        String[] symbols = {"AAPL", "META", "MSFT", "AMZN"};
        List<Packet> book = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            book.add(new Packet(symbols[i % symbols.length], i % 2 == 0 ? 'B' : 'S',
                    1 + (i * 7) % 100, 50 + (i * 13) % 3000, i + 1));
        }
        return book;
    }

    // --- command line ---------------------------------------------------------------------

    private static final String USAGE = """
            usage: make run-server ARGS="[flags]"
              --host H          address to listen on (default 127.0.0.1, loopback only;
                                --host 0.0.0.0 exposes the server on every interface)
              --port N          TCP port (default 3000; 0 picks a free one)
              --drop P          probability that a streamed packet is dropped (default 0.25,
                                as the original; the last packet is never dropped)
              --seed S          make drops repeatable: every stream drops the same packets
              --packets N       serve a generated book of N packets instead of the original 14
              --delay-ms MS     wait MS before each response, to make round trips visible
              --idle-timeout-ms MS  close a connection that sends nothing for MS (default 30000)
              --trace           every request and packet on the wire, in hex and decoded, to stderr
              --help            this text""";

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            Flags flags = Flags.parse(args, Set.of("host", "port", "drop", "seed", "packets", "delay-ms", "idle-timeout-ms"));
            if (flags.help()) {
                System.out.println(USAGE);
                return;
            }
            if (flags.trace()) {
                Trace.enable();
            }
            Options defaults = Options.original();
            options = new Options(
                    flags.string("host", defaults.host()),
                    (int) flags.integer("port", defaults.port(), 0, 65535),
                    flags.number("drop", defaults.dropProbability(), 0, 1),
                    flags.has("seed") ? flags.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE) : null,
                    (int) flags.integer("packets", 0, 1, MAX_GENERATED_PACKETS),
                    (int) flags.integer("delay-ms", 0, 0, 60_000),
                    (int) flags.integer("idle-timeout-ms", defaults.idleTimeoutMs(), 1, Integer.MAX_VALUE));
        } catch (IllegalArgumentException e) {
            System.err.println("exchange server: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        ExchangeServer server;
        try {
            server = start(options);
        } catch (IOException e) {
            System.err.println("exchange server: cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close));
        server.acceptor.join();
    }
}
