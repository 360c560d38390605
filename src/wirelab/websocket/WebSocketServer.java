package wirelab.websocket;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.WARNING;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;

import wirelab.LogQuota;
import wirelab.RecentlyHeard;
import wirelab.Sockets;

/**
 * A minimal RFC 6455 WebSocket server on {@code java.net}: what the RFC requires of a server,
 * without extensions or subprotocols. One virtual thread per connection, blocking I/O:
 *
 * <ol>
 * <li>accept a TCP connection;
 * <li>read the HTTP/1.1 opening handshake (section 4.2, {@link WebSocketHandshake}) and answer
 *     {@code 101 Switching Protocols}, or an HTTP error; a plain GET that is not an upgrade goes
 *     to the {@code plainHttp} handler, if there is one;
 * <li>read frames ({@link WebSocketFrame}) and put them together into messages, answering
 *     pings and failing the connection with the RFC's close code on bad input;
 * <li>end with the closing handshake (section 7), or report a peer that just vanished.
 * </ol>
 */
public final class WebSocketServer implements AutoCloseable {

    private static final System.Logger log = System.getLogger("websocket-server");
    /** Sockets held past both caps, each only while it is told 503: room to say why, not to hold a flood. */
    public static final int REFUSALS_IN_FLIGHT = 16;

    /**
     * What the server tells its user. onOpen, onText, onPong and onError run on the connection's own
     * thread, one at a time, in the order the frames came. onClose runs exactly once: on the
     * connection's thread when the peer closes or vanishes, but on the close-deadline timer's or
     * the keep-alive thread when one of those ends the connection, so it may overlap an onText
     * still running for that connection. A listener that shares state between onText and
     * onClose must guard it (the node's {@code Membership} does, under its locks).
     */
    public interface Listener {
        default void onOpen(IncomingConnection connection) {
        }

        void onText(IncomingConnection connection, String text);

        /** A pong came: the answer to one of the user's {@link IncomingConnection#ping}s, or one the peer sent unasked. */
        default void onPong(IncomingConnection connection, byte[] payload) {
        }

        /** Once per connection: {@code code} is 1006 when the peer vanished without a close frame. */
        default void onClose(IncomingConnection connection, int code, String reason) {
        }

        /** The peer broke the protocol, or onText threw: the connection is then closed with {@code closeCode}. */
        default void onError(IncomingConnection connection, int closeCode, Exception error) {
        }

        /**
         * A peer was refused before any WebSocket opened, on the thread that refused it: answered
         * with the HTTP {@code status} (400, 403, 405, 426 or 431 for its request, 503 when the
         * server is full), or 408 when it was dropped unanswered for not finishing its request in
         * time. For counting; the peer has been told why already.
         */
        default void onRefused(String remoteHost, int status) {
        }
    }

    /**
     * @param host               "localhost" listens on 127.0.0.1 and, where the machine has it,
     *                           on ::1 too (a client may resolve localhost to either); any other
     *                           value is one address to bind, e.g. 0.0.0.0 for every interface
     * @param maxMessageBytes    a bigger message closes the connection with 1009
     * @param handshakeTimeoutMs a client must finish its opening handshake within this
     * @param maxHeaderBytes     a bigger HTTP header section gets 431
     * @param maxConnections     open WebSockets at most; the handshake of one more gets 503.
     *                           Sockets still in their handshake, or answering plain HTTP, are
     *                           held to the same number again; past it one more gets 503. Every
     *                           socket held, refusals being written included, stays within twice
     *                           the number plus {@link #REFUSALS_IN_FLIGHT}: past that, new
     *                           connections wait in the kernel's queue until one closes
     * @param maxConnectionsPerSource sockets of every kind from one source address at most, so one address cannot
     *                           take every slot; one more gets 503. No limit unless one is set
     * @param originAllowed      decides on a handshake's {@code Origin} header (sent by browsers,
     *                           RFC 6455 section 10.2); a refused one gets 403. A handshake
     *                           without one (scripts, other servers) is not asked about.
     * @param pingIntervalMs     a connection silent this long is pinged, and closed if it is
     *                           silent as long again; 0 never pings
     * @param closeTimeoutMs     after our close frame, the peer's answer must come within this
     * @param unfinishedMessageBytes bytes held in messages still arriving, on all connections at
     *                           once; a quarter of it from one address ({@link UnfinishedMessages})
     */
    public record Options(String host, int port, int maxMessageBytes, int handshakeTimeoutMs, int maxHeaderBytes,
                          int maxConnections, int maxConnectionsPerSource, Predicate<String> originAllowed,
                          int pingIntervalMs, int closeTimeoutMs, long unfinishedMessageBytes) {
        public static Options onPort(int port) {
            return new Options("localhost", port, 1 << 20, 5_000, 8 * 1024, 1_000, Integer.MAX_VALUE, origin -> true, 0, 2_000,
                    64L << 20);
        }

        public Options withMaxMessageBytes(int maxMessageBytes) {
            return new Options(host, port, maxMessageBytes, handshakeTimeoutMs, maxHeaderBytes, maxConnections,
                    maxConnectionsPerSource, originAllowed, pingIntervalMs, closeTimeoutMs, unfinishedMessageBytes);
        }

        public Options withHandshakeTimeoutMs(int handshakeTimeoutMs) {
            return new Options(host, port, maxMessageBytes, handshakeTimeoutMs, maxHeaderBytes, maxConnections,
                    maxConnectionsPerSource, originAllowed, pingIntervalMs, closeTimeoutMs, unfinishedMessageBytes);
        }

        public Options withHost(String host) {
            return new Options(host, port, maxMessageBytes, handshakeTimeoutMs, maxHeaderBytes, maxConnections,
                    maxConnectionsPerSource, originAllowed, pingIntervalMs, closeTimeoutMs, unfinishedMessageBytes);
        }

        public Options withMaxConnections(int maxConnections) {
            return new Options(host, port, maxMessageBytes, handshakeTimeoutMs, maxHeaderBytes, maxConnections,
                    maxConnectionsPerSource, originAllowed, pingIntervalMs, closeTimeoutMs, unfinishedMessageBytes);
        }

        public Options withMaxConnectionsPerSource(int maxConnectionsPerSource) {
            return new Options(host, port, maxMessageBytes, handshakeTimeoutMs, maxHeaderBytes, maxConnections,
                    maxConnectionsPerSource, originAllowed, pingIntervalMs, closeTimeoutMs, unfinishedMessageBytes);
        }

        public Options withOriginAllowed(Predicate<String> originAllowed) {
            return new Options(host, port, maxMessageBytes, handshakeTimeoutMs, maxHeaderBytes, maxConnections,
                    maxConnectionsPerSource, originAllowed, pingIntervalMs, closeTimeoutMs, unfinishedMessageBytes);
        }

        public Options withPingIntervalMs(int pingIntervalMs) {
            return new Options(host, port, maxMessageBytes, handshakeTimeoutMs, maxHeaderBytes, maxConnections,
                    maxConnectionsPerSource, originAllowed, pingIntervalMs, closeTimeoutMs, unfinishedMessageBytes);
        }

        public Options withUnfinishedMessageBytes(long unfinishedMessageBytes) {
            return new Options(host, port, maxMessageBytes, handshakeTimeoutMs, maxHeaderBytes, maxConnections,
                    maxConnectionsPerSource, originAllowed, pingIntervalMs, closeTimeoutMs, unfinishedMessageBytes);
        }

        public Options withCloseTimeoutMs(int closeTimeoutMs) {
            return new Options(host, port, maxMessageBytes, handshakeTimeoutMs, maxHeaderBytes, maxConnections,
                    maxConnectionsPerSource, originAllowed, pingIntervalMs, closeTimeoutMs, unfinishedMessageBytes);
        }
    }

    private final Options options;
    private final Listener listener;
    private final Function<HttpRequest, HttpResponse> plainHttp;
    private final List<ServerSocket> serverSockets = new ArrayList<>();
    private final Set<IncomingConnection> connections = ConcurrentHashMap.newKeySet();
    private final Set<Socket> handshaking = ConcurrentHashMap.newKeySet();
    private final AtomicInteger openCount = new AtomicInteger();   // connections past the handshake, for maxConnections
    private final AtomicInteger unopenedCount = new AtomicInteger();   // sockets in their handshake or plain HTTP
    private final Map<InetAddress, Integer> socketsPerSource = new ConcurrentHashMap<>();
    private final Semaphore socketsHeld;   // every socket accepted and not yet closed, on every listener
    private final UnfinishedMessages unfinished;
    /** Each source's quota of log lines, kept across its reconnects: the 1,000 heard from last. */
    private final RecentlyHeard<InetAddress, LogQuota> logQuotas =
            new RecentlyHeard<>(1_000, address -> new LogQuota(address.getHostAddress()));

    private WebSocketServer(Options options, Listener listener, Function<HttpRequest, HttpResponse> plainHttp) {
        this.options = options;
        this.listener = listener;
        this.plainHttp = plainHttp;
        this.socketsHeld = new Semaphore((int) Math.min(Integer.MAX_VALUE, 2L * options.maxConnections() + REFUSALS_IN_FLIGHT));
        this.unfinished = new UnfinishedMessages(options.unfinishedMessageBytes());
    }

    /** Listens on {@code options.port()} (0 picks a free one: see {@link #port()}). */
    public static WebSocketServer start(Options options, Listener listener) throws IOException {
        return start(options, listener, request -> HttpResponse.text(400,
                "this is a WebSocket server: expected a GET with 'Upgrade: websocket'"));
    }

    /** As {@link #start(Options, Listener)}; plain (non-upgrade) GET requests go to {@code plainHttp}. */
    public static WebSocketServer start(Options options, Listener listener,
                                        Function<HttpRequest, HttpResponse> plainHttp) throws IOException {
        WebSocketServer server = new WebSocketServer(options, listener, plainHttp);
        server.bind();
        for (ServerSocket serverSocket : server.serverSockets) {
            Thread.ofVirtual().name("websocket-acceptor")
                    .start(() -> Sockets.acceptConnections(serverSocket, "websocket", server::serve, server.socketsHeld, log));
        }
        if (options.pingIntervalMs() > 0) {
            Thread.ofVirtual().name("websocket-keep-alive").start(server::keepAlive);
        }
        return server;
    }

    private void bind() throws IOException {
        if (!options.host().equals("localhost")) {
            serverSockets.add(Sockets.listen(InetAddress.getByName(options.host()), options.port()));
            return;
        }
        ServerSocket ipv4 = Sockets.listen(InetAddress.getByName("127.0.0.1"), options.port());
        serverSockets.add(ipv4);
        try {
            serverSockets.add(Sockets.listen(InetAddress.getByName("::1"), ipv4.getLocalPort()));
        } catch (IOException e) {
            log.log(DEBUG, "no IPv6 loopback on port " + ipv4.getLocalPort() + ": " + e.getMessage());
        }
    }

    public int port() {
        return serverSockets.get(0).getLocalPort();
    }

    /** The addresses it listens on, e.g. [127.0.0.1:4001, [::1]:4001]. */
    public List<String> listeningOn() {
        return serverSockets.stream().map(s -> {
            InetAddress address = s.getInetAddress();
            String host = address instanceof Inet6Address ? "[" + (address.isLoopbackAddress() ? "::1" : address.getHostAddress()) + "]"
                    : address.getHostAddress();
            return host + ":" + s.getLocalPort();
        }).toList();
    }

    public Set<IncomingConnection> connections() {
        return Set.copyOf(connections);
    }

    /**
     * Stops listening and closes every connection with 1001 "going away", waiting up to the close
     * timeout for the peers' answering close frames, so that listeners hear the code that was
     * sent; connections still open then are dropped.
     */
    @Override
    public void close() {
        for (ServerSocket serverSocket : serverSockets) {
            Sockets.closeQuietly(serverSocket);
        }
        for (IncomingConnection connection : connections) {
            connection.close(CloseCode.GOING_AWAY, "server stopping");
        }
        long deadline = System.nanoTime() + options.closeTimeoutMs() * 1_000_000L;
        while (connections.stream().anyMatch(c -> !c.isClosed()) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        abort();
    }

    /** Stops listening and drops every connection without a close frame, as a killed process would. */
    public void abort() {
        for (ServerSocket serverSocket : serverSockets) {
            Sockets.closeQuietly(serverSocket);
        }
        handshaking.forEach(Sockets::closeQuietly);
        for (IncomingConnection connection : connections) {
            connection.abort();
        }
    }

    /** Every half interval, each connection is asked whether it has been silent too long (see checkLiveness). */
    private void keepAlive() {
        while (!serverSockets.get(0).isClosed()) {
            try {
                Thread.sleep(Math.max(1, options.pingIntervalMs() / 2));
            } catch (InterruptedException e) {
                return;
            }
            for (IncomingConnection connection : connections) {
                connection.checkLiveness(options.pingIntervalMs());
            }
        }
    }

    // --- one connection, top to bottom -----------------------------------------------------

    private void serve(Socket socket) {
        String peer = socket.getInetAddress().getHostAddress() + ":" + socket.getPort();
        InetAddress source = socket.getInetAddress();
        LogQuota lines = logQuotas.of(source);
        int fromSource = socketsPerSource.merge(source, 1, Integer::sum);
        int unopened = unopenedCount.incrementAndGet();
        boolean stillUnopened = true;
        handshaking.add(socket);
        try (socket) {
            if (fromSource > options.maxConnectionsPerSource() || unopened > options.maxConnections()) {
                String why = fromSource > options.maxConnectionsPerSource()
                        ? source.getHostAddress() + " already has " + options.maxConnectionsPerSource() + " connections here, the limit per address"
                        : "this server already has " + options.maxConnections() + " connections in their handshake, its limit";
                refuse(socket, socket.getOutputStream(), HttpResponse.text(503, why + "; try again later"), peer, lines);
                return;
            }
            // Frames are written whole, one write each, so the output needs no buffer, and Nagle's
            // algorithm, which holds a small write back while an earlier one is unacknowledged,
            // has nothing to gather: it could only delay a message. The input's buffer serves the
            // byte-by-byte reads of headers, and 2 KiB holds most small messages.
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream(), 2048);
            OutputStream out = socket.getOutputStream();
            HttpRequest request = WebSocketHandshake.read(socket, in, out, peer, lines, options,
                    status -> listener.onRefused(source.getHostAddress(), status));
            if (request == null) {   // answered already (400, 405, 431), or the client went away
                Sockets.closeAfterLastWord(socket, 1_000);   // the client may still be sending its headers
                return;
            }
            if (!WebSocketHandshake.isUpgrade(request)) {   // a plain GET: the server's user answers it
                HttpAnswer.plainGet(socket, in, out, answerPlainGet(request, peer, lines), peer, lines);
                Sockets.closeAfterLastWord(socket, 1_000);
                return;
            }
            HttpResponse refusal = WebSocketHandshake.refusal(request, options);
            if (refusal != null) {
                refuse(socket, out, refusal, peer, lines);
                return;
            }
            if (openCount.incrementAndGet() > options.maxConnections()) {
                openCount.decrementAndGet();
                refuse(socket, out, HttpResponse.text(503, "this server already has " + options.maxConnections()
                        + " WebSocket connections, its limit; try again later"), peer, lines);
                return;
            }
            unopenedCount.decrementAndGet();
            stillUnopened = false;
            try {
                open(socket, in, out, request, peer, lines);
            } finally {
                openCount.decrementAndGet();
            }
        } catch (IOException e) {
            log.log(DEBUG, peer + ": " + e.toString());
        } catch (RuntimeException e) {   // a listener's failure: the connection ends, the server goes on, the log says why once
            lines.log(log, WARNING, peer + ": the connection ended on a failure of the server's user: " + e);
        } finally {
            handshaking.remove(socket);
            if (stillUnopened) {
                unopenedCount.decrementAndGet();
            }
            socketsPerSource.computeIfPresent(source, (address, count) -> count == 1 ? null : count - 1);
        }
    }

    /** Answers a peer that is refused before any WebSocket opens, tells the listener, and closes once the answer is out. */
    private void refuse(Socket socket, OutputStream out, HttpResponse answer, String peer, LogQuota lines) throws IOException {
        HttpAnswer.write(out, answer, peer, lines);
        listener.onRefused(socket.getInetAddress().getHostAddress(), answer.status());
        Sockets.closeAfterLastWord(socket, 1_000);
    }

    /** The upgrade is taken: the 101 answer, then the connection's messages until it closes. */
    private void open(Socket socket, InputStream in, OutputStream out, HttpRequest request, String peer, LogQuota lines)
            throws IOException {
        WebSocketHandshake.accept(out, request, peer);
        socket.setSoTimeout(0);   // silence is for the pings to judge (see keepAlive), not a read timeout
        IncomingConnection connection = new IncomingConnection(socket, out, request, peer, lines, listener, options.closeTimeoutMs());
        connections.add(connection);
        handshaking.remove(socket);
        try {
            listener.onOpen(connection);
            new MessageReader(connection, new DataInputStream(connection.heardFromEachRead(in)),
                    unfinished.new Share(socket.getInetAddress()), listener, options.maxMessageBytes()).run();
        } finally {
            connections.remove(connection);
        }
    }

    /** The plain-HTTP handler's answer; one that fails is answered 500, and logged within the source's quota. */
    private HttpResponse answerPlainGet(HttpRequest request, String peer, LogQuota lines) {
        try {
            return plainHttp.apply(request);
        } catch (RuntimeException e) {
            lines.log(log, WARNING, peer + ": GET " + request.path() + " failed: " + e);
            return HttpResponse.text(500, "this server failed on the request; its log says why");
        }
    }
}
