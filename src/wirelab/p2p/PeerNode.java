package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import com.google.gson.JsonObject;

import wirelab.Text;
import wirelab.Trace;
import wirelab.websocket.CloseCode;
import wirelab.websocket.HttpResponse;
import wirelab.websocket.IncomingConnection;
import wirelab.websocket.WebSocketServer;

/**
 * A node of the freeCodeCamp peer-to-peer network. Each node runs a WebSocket server on its
 * {@code PORT} and knows itself by {@code MY_ADDRESS} ({@code ws://localhost:PORT} unless its
 * {@code .env} says otherwise). It dials the peers in {@code known-peers.json}, says HANDSHAKE
 * on every connection it opens, grows the mesh from the addresses HANDSHAKEs teach
 * ({@link Membership}), and stores every TRANSACTION once in {@code transactions.json},
 * passing it on ({@link Inbox}, {@link BroadcastTree}). The messages are stated in
 * {@link Message}.
 *
 * <p>Outgoing connections use the JDK's {@code java.net.http.WebSocket} client
 * ({@link OutgoingConnection}); incoming ones arrive through {@link WebSocketServer}
 * ({@link IncomingConnection}). To gossip, both are a {@link Neighbour}. This file starts the
 * node and stops it, hands each connection's events to the role that acts on them, and answers
 * what its users ask; {@link Heartbeat} keeps its time.
 */
public final class PeerNode implements AutoCloseable {

    private static final System.Logger log = System.getLogger("peer-node");

    /** The largest message taken from any peer: the server's limit for incoming, ours for outgoing. */
    static final int MAX_MESSAGE_BYTES = 1 << 20;
    private final NodeConfig config;
    private final TransactionPool pool;
    private final CatchUp catchUp;
    private final BroadcastTree broadcast;
    private final SeenMessages seenMessages = new SeenMessages();
    private final NodeEvents events = new NodeEvents();
    private final MessageCounts counts = new MessageCounts();
    private final Sources sources;
    private final ExecutorService virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient httpClient;

    // Set once by start(), before `whole` opens; the server's threads wait for it, so nothing
    // that arrives early meets a half-built node, and the latch publishes these fields to them.
    private final CountDownLatch whole = new CountDownLatch(1);
    private WebSocketServer server;
    private String myAddress;   // MY_ADDRESS, or ws://localhost:PORT once the server listens
    private PeerAddresses addresses;
    private Membership membership;
    private Inbox inbox;
    private Heartbeat heartbeat;

    private PeerNode(NodeConfig config, TransactionPool pool) {
        this.config = config;
        this.pool = pool;
        this.sources = new Sources(config.limits().catchUpBytesPerMinute());
        this.catchUp = new CatchUp(pool, events, config.syncIntervalMs());
        this.broadcast = new BroadcastTree(pool, events, neighbour -> membership.isKnownPeer(neighbour));
        this.httpClient = NoTls.newClient(virtualThreads, config.linkProxy());
    }

    /** Loads the transaction pool, listens on the port, then dials every known peer. */
    public static PeerNode start(NodeConfig config) throws IOException {
        long openFileLimit = NodeConfig.openFileLimit();
        int maxConnections = config.maxConnectionsFor(openFileLimit);
        if (maxConnections < config.maxConnections()) {
            log.log(WARNING, "MAX_CONNECTIONS=" + config.maxConnections() + " would let sockets take every file this process "
                    + "may open (" + openFileLimit + ", ulimit -n), and the pool could not append; taking " + maxConnections);
        }
        PeerNode node = new PeerNode(config, TransactionPool.load(config.folder().resolve("transactions.json")));
        MeshView view = new MeshView(node);
        node.server = WebSocketServer.start(WebSocketServer.Options.onPort(config.port()).withHost(config.host())
                        .withMaxMessageBytes(MAX_MESSAGE_BYTES).withMaxConnections(maxConnections)
                        .withMaxConnectionsPerSource(config.limits().maxConnectionsPerSource())
                        .withOriginAllowed(node::isAllowedOrigin)
                        .withPingIntervalMs(config.pingIntervalMs())
                        .withUnfinishedMessageBytes(config.limits().unfinishedMessageBytes()),
                node.incoming, request -> node.awaitWhole() ? view.answer(request) : node.notReady());
        node.myAddress = config.myAddress() != null ? config.myAddress() : "ws://localhost:" + node.server.port();
        node.addresses = new PeerAddresses(node.myAddress, node.server.port(), config.allowedPeerHosts(), config.allowedOrigins());
        node.membership = new Membership(config, node.myAddress, node.knownPeers(), node, node.httpClient, node.counts,
                node.addresses, node.sources);
        node.inbox = new Inbox(config, node.pool, node.catchUp, node.broadcast, node.seenMessages, node.events, node.counts,
                node.membership);
        node.heartbeat = new Heartbeat(config, node.membership, node.broadcast, node.catchUp);
        node.whole.countDown();
        log.log(INFO, node.myAddress + " listening on " + node.server.listeningOn()
                + (PeerAddresses.isLoopbackOnly(config.host()) ? " (loopback only; HOST=0.0.0.0 and MY_ADDRESS in .env expose it)" : "")
                + " with " + node.pool.count() + " transactions in its pool; live view at "
                + node.myAddress.replaceFirst("^ws:", "http:") + "/");
        node.heartbeat.start();
        node.membership.outgoing().start();
        return node;
    }

    /** The addresses in known-peers.json this node may dial, canonical; the others logged and passed by. */
    private List<String> knownPeers() {
        List<String> knownPeers = new ArrayList<>();
        for (String knownPeer : config.knownPeers()) {
            String address = WsAddress.normalize(knownPeer);
            PeerAddresses.DialProblem problem = address == null ? null : addresses.dialProblem(address, false);
            if (address == null || problem != null) {
                log.log(WARNING, "will not dial " + Text.abbreviate(knownPeer) + " from known-peers.json: "
                        + (problem == null ? "expected ws://host:port" : problem.why()));
            } else if (!addresses.isOwn(address)) {
                knownPeers.add(address);
            }
        }
        return knownPeers;
    }

    /** Waits until start() has set every field (a moment at most); false if the node never became whole. */
    private boolean awaitWhole() {
        try {
            return whole.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private HttpResponse notReady() {
        return HttpResponse.text(503, "this node is still starting; try again in a moment");
    }

    private boolean isAllowedOrigin(String origin) {
        return awaitWhole() && addresses.isAllowedOrigin(origin);
    }

    public String address() {
        return myAddress;
    }

    public int port() {
        return server.port();
    }

    public List<String> connectedAddresses() {
        return membership.outgoing().connectedAddresses();
    }

    public List<String> attemptingToConnectToAddress() {
        return membership.outgoing().attemptingToConnectToAddress();
    }

    /** The neighbours that dialed us, by the address each gave (or host:port). */
    public List<String> incomingAddresses() {
        return membership.incomingAddresses();
    }

    /** Every neighbour gossip goes to, each as {"address", "direction": "out" or "in", "link": "eager", "lazy" or "curriculum", "rttMs" once measured}. */
    List<JsonObject> neighbours() {
        List<JsonObject> list = new ArrayList<>();
        for (Neighbour neighbour : membership.neighbours()) {
            JsonObject each = new JsonObject();
            each.addProperty("address", neighbour.addressOrPeer());
            each.addProperty("direction", neighbour.direction == Neighbour.Direction.OUTGOING ? "out" : "in");
            each.addProperty("link", !neighbour.speaksWirelab() ? "curriculum" : neighbour.link.isEager() ? "eager" : "lazy");
            if (neighbour.link.rttMs() < Double.MAX_VALUE) {
                each.addProperty("rttMs", Math.round(neighbour.link.rttMs()));
            }
            list.add(each);
        }
        return list;
    }

    /** The stored transactions, in the order this node stored them. */
    public List<JsonObject> transactions() {
        return pool.transactions();
    }

    public int transactionCount() {
        return pool.count();
    }

    /** The last {@code n} transactions stored, newest last. */
    public List<JsonObject> lastTransactions(int n) {
        return pool.lastTransactions(n);
    }

    PeerAddresses addresses() {
        return addresses;
    }

    NodeEvents events() {
        return events;
    }

    MessageCounts counts() {
        return counts;
    }

    int addressBookSize() {
        return membership.outgoing().addressBookSize();
    }

    /** Bytes this node has sent to bring peers up to date (catch-up messages and the transactions they asked for). */
    public long catchUpBytesSent() {
        return catchUp.bytesSent();
    }

    /** What this node refused since it started, by reason (see {@link MessageCounts}). */
    public java.util.Map<String, Long> refused() {
        return counts.refused();
    }

    /** The counters of the {@code atMost} sources heard from most recently (see {@link Sources}). */
    java.util.Map<String, Object> sources(int atMost) {
        return sources.counters(atMost);
    }

    /** Messages of {@code type} this node has sent since it started. */
    public long messagesSent(String type) {
        return counts.sent().getOrDefault(type, 0L);
    }

    /** Messages of every type this node has sent since it started. */
    public long messagesSent() {
        return counts.sent().values().stream().mapToLong(Long::longValue).sum();
    }

    /** Messages this node has received since it started, by type. */
    public java.util.Map<String, Long> messagesReceived() {
        return counts.received();
    }

    /** UTF-8 bytes of every message this node has sent since it started. */
    public long bytesSent() {
        return counts.bytesSent();
    }

    /** Leaves the network politely: close frames to every peer, then stop listening. */
    @Override
    public void close() {
        stop(true);
        log.log(INFO, myAddress + " stopped");
    }

    /** Drops every connection without a close frame, as a killed process would. For fault drills. */
    public void abort() {
        stop(false);
        log.log(INFO, myAddress + " aborted");
    }

    private void stop(boolean politely) {
        heartbeat.stop();
        if (politely) {
            server.close();
        } else {
            server.abort();
        }
        membership.outgoing().stop(politely);
        httpClient.shutdownNow();
        virtualThreads.shutdownNow();
        try {
            pool.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- the connections ------------------------------------------------------------------------

    /** The outgoing connection opened: we say HANDSHAKE, the first message on every connection. */
    void connected(OutgoingConnection connection) {
        List<String> handshakeData = membership.outgoing().connected(connection);
        connection.neighbour().sendHandshake(handshakeData);
        events.publish("out", Message.Type.HANDSHAKE.name(), connection.address, null);
        log.log(INFO, "connected to " + connection.address + "; sent HANDSHAKE " + handshakeData);
    }

    /** The outgoing connection closed or failed: the address leaves connectedAddresses. */
    void disconnected(OutgoingConnection connection, String why) {
        if (membership.outgoing().disconnected(connection)) {
            broadcast.forget(connection.neighbour());
            log.log(INFO, "connection to " + connection.address + " closed (" + why + ")");
        }
    }

    private final WebSocketServer.Listener incoming = new WebSocketServer.Listener() {
        @Override
        public void onOpen(IncomingConnection connection) {
            if (awaitWhole()) {
                membership.opened(connection);
            }
        }

        @Override
        public void onText(IncomingConnection connection, String text) {
            Neighbour neighbour = membership.neighbourOf(connection);
            if (neighbour != null) {
                receive(text, neighbour);
            }
        }

        @Override
        public void onPong(IncomingConnection connection, byte[] payload) {
            Neighbour neighbour = membership.neighbourOf(connection);
            if (neighbour != null) {
                neighbour.pong(payload);
            }
        }

        @Override
        public void onClose(IncomingConnection connection, int code, String reason) {
            Neighbour gone = membership.closed(connection);
            if (gone != null) {
                broadcast.forget(gone);
            }
        }

        /** A peer that broke RFC 6455 (1002, 1007, 1009, 1013), or a message this node failed on (1011): counted. */
        @Override
        public void onError(IncomingConnection connection, int closeCode, Exception error) {
            refused(connection.remoteHost(), closeCode == CloseCode.INTERNAL_ERROR ? Refusal.FAILED_ON_MESSAGE : Refusal.BROKE_WEBSOCKET);
        }

        @Override
        public void onRefused(String remoteHost, int status) {
            refused(remoteHost, status == 503 ? Refusal.CONNECTIONS_FULL : Refusal.HANDSHAKE_REFUSED);
        }

        private void refused(String remoteHost, Refusal reason) {
            counts.refused(reason);
            sources.of(remoteHost, null).refused(reason);
        }
    };

    // --- the messages -------------------------------------------------------------------------

    /** Every message from every connection, in or out: the inbox reads it and does what its type asks. */
    void receive(String text, Neighbour from) {
        inbox.receive(text, from);
    }

    /** {@code scripts/run-node.sh node-N [--trace]} runs this with the node's folder. */
    public static void main(String[] args) throws Exception {
        boolean trace = args.length == 2 && args[1].equals("--trace");
        if (args.length < 1 || args.length > 2 || args[0].startsWith("-") || (args.length == 2 && !trace)) {
            System.err.println("usage: scripts/run-node.sh node-N [--trace]   (runs PeerNode with the folder nodes/node-N;"
                    + " --trace shows every handshake, frame and message on the wire, to stderr)");
            System.exit(args.length == 1 && (args[0].equals("--help") || args[0].equals("-h")) ? 0 : 2);
        }
        if (trace) {
            Trace.enable();
        }
        PeerNode node;
        try {
            node = start(NodeConfig.fromFolder(Path.of(args[0])));
        } catch (IOException e) {
            System.err.println("peer node: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(node::close));
        Thread.currentThread().join();
    }
}
