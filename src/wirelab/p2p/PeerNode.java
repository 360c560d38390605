package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import wirelab.Trace;
import wirelab.websocket.IncomingConnection;
import wirelab.websocket.WebSocketServer;

/**
 * A node of the freeCodeCamp peer-to-peer network. Each node runs a WebSocket server on its
 * {@code PORT} and knows itself by {@code MY_ADDRESS} ({@code ws://localhost:PORT} unless its
 * {@code .env} says otherwise). Messages are JSON text frames {@code {"type": ..., "data": ...}}:
 *
 * <ul>
 * <li>{@code HANDSHAKE}, data = the addresses the sender is connected to, plus its own. A node
 *     sends it as soon as one of its outgoing connections opens. A node that receives it
 *     connects to every address it is not connected to, not already attempting, and not its
 *     own. So the mesh grows from {@code known-peers.json} until everyone knows everyone.
 * <li>{@code TRANSACTION}, data = a transaction object. A node stores it in
 *     {@code transactions.json} and passes it to every node it is connected to. The
 *     transaction's {@code id} stops the message from looping (see {@link #receiveTransaction}).
 * <li>{@code SYNC} and the steps after it: catch-up when two nodes meet ({@link CatchUp}).
 * </ul>
 *
 * <p>Outgoing connections use the JDK's {@code java.net.http.WebSocket} client
 * ({@link OutgoingConnection}); incoming ones arrive through {@link WebSocketServer}
 * ({@link IncomingConnection}). As in the curriculum, {@code connectedAddresses} holds
 * the servers this node has an open outgoing connection to, and
 * {@code attemptingToConnectToAddress} the ones it is dialing, so it never dials one twice.
 */
public final class PeerNode implements AutoCloseable {

    private static final System.Logger log = System.getLogger("peer-node");
    private static final Gson gson = new Gson();

    /** The largest message taken from any peer: the server's limit for incoming, ours for outgoing. */
    static final int MAX_MESSAGE_BYTES = 1 << 20;

    private final NodeConfig config;
    private final TransactionPool pool;
    private final CatchUp catchUp;
    private final SeenMessages seenMessages = new SeenMessages();
    private final NodeEvents events = new NodeEvents();
    private WebSocketServer server;
    private volatile PeerAddresses addresses;
    private String myAddress;   // MY_ADDRESS, or ws://localhost:PORT once the server listens

    // The curriculum's two collections, guarded by peersLock so that "not connected and not
    // attempting" and "now attempting" happen as one step.
    private final Map<String, OutgoingConnection> connectedAddresses = new LinkedHashMap<>();
    private final Set<String> attemptingToConnectToAddress = new HashSet<>();
    private final ReentrantLock peersLock = new ReentrantLock();

    // Known peers are the way into the mesh, so a node keeps trying them: one that cannot be
    // reached (not started yet, restarting) is tried again after 1 s, then 2, 4, up to 10 s, for
    // as long as this node runs. Peers learned from a HANDSHAKE are not retried: whoever told us
    // about them tells us again when they are back.
    private final Set<String> knownPeerAddresses = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> retryDelayMs = new ConcurrentHashMap<>();
    private volatile boolean running = true;

    private final ExecutorService virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient httpClient = HttpClient.newBuilder().executor(virtualThreads).build();

    private PeerNode(NodeConfig config, TransactionPool pool) {
        this.config = config;
        this.pool = pool;
        this.catchUp = new CatchUp(pool, events);
    }

    /** Loads the transaction pool, listens on the port, then dials every known peer. */
    public static PeerNode start(NodeConfig config) throws IOException {
        PeerNode node = new PeerNode(config, TransactionPool.load(config.folder().resolve("transactions.json")));
        MeshView view = new MeshView(node);
        node.server = WebSocketServer.start(WebSocketServer.Options.onPort(config.port()).withHost(config.host())
                        .withMaxMessageBytes(MAX_MESSAGE_BYTES).withMaxConnections(config.maxConnections())
                        .withOriginAllowed(origin -> node.addresses.isAllowedOrigin(origin))
                        .withPingIntervalMs(config.pingIntervalMs()),
                node.incoming, view::answer);
        node.myAddress = config.myAddress() != null ? config.myAddress() : "ws://localhost:" + node.server.port();
        node.addresses = new PeerAddresses(node.myAddress, node.server.port(), config.allowedPeerHosts(), config.allowedOrigins());
        log.log(INFO, node.myAddress + " listening on " + node.server.listeningOn()
                + (PeerAddresses.isLoopbackOnly(config.host()) ? " (loopback only; HOST=0.0.0.0 and MY_ADDRESS in .env expose it)" : "")
                + " with " + node.pool.count() + " transactions in its pool; live view at "
                + node.myAddress.replaceFirst("^ws:", "http:") + "/");
        if (config.pingIntervalMs() > 0) {
            Thread.ofVirtual().name("peer-keep-alive").start(node::keepAlive);
        }
        for (String knownPeer : config.knownPeers()) {
            String address = PeerAddresses.normalize(knownPeer);
            if (address != null) {
                node.knownPeerAddresses.add(address);
            }
            node.connectTo(knownPeer, "known-peers.json");
        }
        return node;
    }

    public String address() {
        return myAddress;
    }

    public int port() {
        return server.port();
    }

    public List<String> connectedAddresses() {
        return underPeersLock(() -> List.copyOf(connectedAddresses.keySet()));
    }

    public List<String> attemptingToConnectToAddress() {
        return underPeersLock(() -> List.copyOf(attemptingToConnectToAddress));
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

    NodeEvents events() {
        return events;
    }

    /** Bytes this node has sent to bring peers up to date (catch-up messages and the transactions they asked for). */
    public long catchUpBytesSent() {
        return catchUp.bytesSent();
    }

    /** Leaves the network politely: close frames to every peer, then stop listening. */
    @Override
    public void close() {
        running = false;
        server.close();
        for (OutgoingConnection connection : outgoingSnapshot()) {
            connection.close(WebSocket.NORMAL_CLOSURE, "node stopping");
        }
        httpClient.shutdownNow();
        virtualThreads.shutdownNow();
        stopPool();
        log.log(INFO, myAddress + " stopped");
    }

    /** Drops every connection without a close frame, as a killed process would. For fault drills. */
    public void abort() {
        running = false;
        server.abort();
        for (OutgoingConnection connection : outgoingSnapshot()) {
            connection.abort("node aborted");
        }
        httpClient.shutdownNow();
        virtualThreads.shutdownNow();
        stopPool();
        log.log(INFO, myAddress + " aborted");
    }

    private void stopPool() {
        try {
            pool.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // --- dialing out: connectedAddresses and attemptingToConnectToAddress --------------------

    /** Opens an outgoing connection to {@code address} unless the rules say not to. */
    private void connectTo(String rawAddress, String learnedFrom) {
        String address = PeerAddresses.normalize(rawAddress);
        if (address == null) {
            log.log(WARNING, "ignored address " + rawAddress + " from " + learnedFrom + ": expected ws://host:port");
            return;
        }
        if (addresses.isOwn(address)) {
            return;
        }
        if (!addresses.isAllowed(address)) {
            log.log(WARNING, "will not dial " + address + " from " + learnedFrom
                    + ": its host is not in ALLOWED_PEER_HOSTS " + addresses.allowedPeerHosts());
            return;
        }
        peersLock.lock();
        try {
            if (connectedAddresses.containsKey(address) || attemptingToConnectToAddress.contains(address)) {
                return;
            }
            if (connectedAddresses.size() + attemptingToConnectToAddress.size() >= config.maxPeers()) {
                log.log(WARNING, "will not dial " + address + ": already at MAX_PEERS " + config.maxPeers());
                return;
            }
            attemptingToConnectToAddress.add(address);
        } finally {
            peersLock.unlock();
        }
        log.log(INFO, "connecting to " + address + " (learned from " + learnedFrom + ")");
        httpClient.newWebSocketBuilder()
                .connectTimeout(Duration.ofSeconds(3))   // covers the opening handshake too: a hung peer fails here
                .buildAsync(URI.create(address), new OutgoingConnection(address, this))
                .whenComplete((webSocket, error) -> {
                    if (error != null) {
                        underPeersLock(() -> attemptingToConnectToAddress.remove(address));
                        log.log(INFO, "could not connect to " + address + ": " + OutgoingConnection.rootMessage(error));
                        retryIfKnownPeer(address);
                    }
                });
    }

    private void retryIfKnownPeer(String address) {
        if (!running || !knownPeerAddresses.contains(address)) {
            return;
        }
        long delayMs = retryDelayMs.merge(address, 1_000L, (previous, first) -> Math.min(10_000L, previous * 2));
        log.log(INFO, "will try known peer " + address + " again in " + delayMs / 1000 + " s");
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(delayMs);
            } catch (InterruptedException e) {
                return;
            }
            if (running) {
                connectTo(address, "known-peers.json, again");
            }
        });
    }

    /** The outgoing connection opened: it joins connectedAddresses, and we say HANDSHAKE. */
    void connected(OutgoingConnection connection) {
        List<String> handshakeData;
        peersLock.lock();
        try {
            connectedAddresses.put(connection.address, connection);
            attemptingToConnectToAddress.remove(connection.address);
            handshakeData = new ArrayList<>(connectedAddresses.keySet());
        } finally {
            peersLock.unlock();
        }
        retryDelayMs.remove(connection.address);
        handshakeData.add(myAddress);
        connection.send(message("HANDSHAKE", gson.toJsonTree(handshakeData)));
        events.publish("out", "HANDSHAKE", connection.address, null);
        log.log(INFO, "connected to " + connection.address + "; sent HANDSHAKE " + handshakeData);
        catchUp.start(connection.session);   // after the HANDSHAKE, which stays the first message
    }

    /** The outgoing connection closed or failed: the address leaves connectedAddresses. */
    void disconnected(OutgoingConnection connection, String why) {
        if (underPeersLock(() -> connectedAddresses.remove(connection.address, connection))) {
            log.log(INFO, "connection to " + connection.address + " closed (" + why + ")");
            retryIfKnownPeer(connection.address);
        }
    }

    /**
     * Outgoing connections are pinged too: a peer whose host crashed or lost its network sends
     * neither FIN nor RST, and without this it would stay in connectedAddresses, and in our
     * HANDSHAKEs, forever.
     */
    private void keepAlive() {
        while (running) {
            try {
                Thread.sleep(Math.max(1, config.pingIntervalMs() / 2));
            } catch (InterruptedException e) {
                return;
            }
            for (OutgoingConnection connection : outgoingSnapshot()) {
                connection.checkLiveness(config.pingIntervalMs());
            }
        }
    }

    private List<OutgoingConnection> outgoingSnapshot() {
        return underPeersLock(() -> List.copyOf(connectedAddresses.values()));
    }

    private <T> T underPeersLock(Supplier<T> action) {
        peersLock.lock();
        try {
            return action.get();
        } finally {
            peersLock.unlock();
        }
    }

    // --- incoming connections: anyone may connect and send us messages ----------------------

    // Each incoming connection has its catch-up session, for the steps a dialer asks of us.
    private final Map<IncomingConnection, CatchUp.Session> incomingSessions = new ConcurrentHashMap<>();

    private final WebSocketServer.Listener incoming = new WebSocketServer.Listener() {
        @Override
        public void onOpen(IncomingConnection connection) {
            incomingSessions.put(connection, new CatchUp.Session("incoming " + connection, text -> {
                try {
                    connection.send(text);
                } catch (IOException e) {
                    log.log(INFO, "could not answer incoming " + connection + ": " + e.getMessage());
                }
            }));
        }

        @Override
        public void onText(IncomingConnection connection, String text) {
            CatchUp.Session session = incomingSessions.get(connection);
            if (session != null) {
                receive(text, session);
            }
        }

        @Override
        public void onClose(IncomingConnection connection, int code, String reason) {
            incomingSessions.remove(connection);
        }
    };

    // --- the messages -------------------------------------------------------------------------

    /** Every message from every connection, in or out, comes through here, parsed once. */
    void receive(String text, CatchUp.Session from) {
        String seenId = seenMessages.idOf(text);
        if (seenId != null) {
            events.publish("in", "TRANSACTION", from.peer, seenId);
            log.log(INFO, "already have transaction " + seenId + " (from " + from + "); not passing it on");
            return;
        }
        JsonObject message;
        try {
            JsonElement parsed = JsonParser.parseString(text);
            if (!parsed.isJsonObject()) {
                throw new JsonParseException("not an object");
            }
            message = parsed.getAsJsonObject();
        } catch (JsonParseException e) {
            log.log(WARNING, "ignored a message from " + from + ": expected a JSON object, got " + abbreviate(text));
            return;
        }
        JsonElement type = message.get("type");
        JsonElement data = message.get("data");
        String typeName = type != null && type.isJsonPrimitive() ? type.getAsString() : String.valueOf(type);
        if (!typeName.equals("TRANSACTION")) {   // a TRANSACTION is told once its id is known
            events.publish("in", PeerNode.abbreviate(typeName), from.peer, null);
        }
        switch (typeName) {
            case "HANDSHAKE" -> {
                if (data == null || !data.isJsonArray()) {
                    log.log(WARNING, "ignored a HANDSHAKE from " + from + ": data must be an array of addresses, got " + data);
                    return;
                }
                receiveHandshake(data.getAsJsonArray(), from);
            }
            case "TRANSACTION" -> {
                if (data == null || !data.isJsonObject()) {
                    log.log(WARNING, "ignored a TRANSACTION from " + from + ": data must be an object, got "
                            + abbreviate(String.valueOf(data)));
                    return;
                }
                try {
                    receiveTransaction(data.getAsJsonObject(), text, from);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();   // the node is stopping
                }
            }
            case "SYNC", "SYNC_BUCKETS", "SYNC_IDS", "SYNC_WANT" -> catchUp.receive(from, typeName, data == null ? JsonNull.INSTANCE : data);
            // A newer node may speak types we do not know; like the curriculum's nodes, we let them pass.
            default -> log.log(INFO, "ignored a message from " + from + ": unknown type " + abbreviate(typeName)
                    + " (this node speaks HANDSHAKE, TRANSACTION and the SYNC messages of catch-up)");
        }
    }

    private void receiveHandshake(JsonArray addresses, CatchUp.Session from) {
        log.log(INFO, "HANDSHAKE from " + from + ": " + abbreviate(addresses.toString()));
        int limit = config.maxAddressesPerHandshake();
        if (addresses.size() > limit) {
            log.log(WARNING, "HANDSHAKE from " + from + " lists " + addresses.size() + " addresses; taking the first " + limit);
        }
        for (int i = 0; i < Math.min(limit, addresses.size()); i++) {
            JsonElement address = addresses.get(i);
            if (!address.isJsonPrimitive() || !address.getAsJsonPrimitive().isString()) {
                log.log(WARNING, "ignored " + address + " in a HANDSHAKE from " + from + ": expected a \"ws://host:port\" string");
                continue;
            }
            connectTo(address.getAsString(), "HANDSHAKE from " + from);
        }
    }

    /**
     * Stores the transaction, then passes the message on, as it came, to every node we are
     * connected to. Gossip meets itself coming back: in a full mesh every node hears each
     * transaction from every other. So each transaction has an id ({@link TransactionId}: its
     * own id field, else one every node derives alike from its content); a node stores and
     * passes on only ids it has not stored, which stops the loop after one round. The ids are
     * read back from transactions.json, so a node that restarts still knows what it stored.
     * The message goes on unchanged, byte for byte: a curriculum node compares transactions by
     * content, and would store a changed copy again.
     */
    private void receiveTransaction(JsonObject transaction, String messageText, CatchUp.Session from) throws InterruptedException {
        String id;
        try {
            id = TransactionId.of(transaction);
        } catch (IllegalArgumentException e) {
            log.log(WARNING, "ignored a TRANSACTION from " + from + ": " + e.getMessage());
            return;
        }
        events.publish("in", "TRANSACTION", from.peer, id);
        CompletableFuture<Void> onDisk = pool.contains(id) ? null : pool.add(id, gson.toJson(transaction));
        if (onDisk == null) {
            seenMessages.remember(messageText, id);
            log.log(INFO, "already have transaction " + id + " (from " + from + "); not passing it on");
            return;
        }
        // This connection's next message is read while the pool writes this one, so a burst shares
        // one append and one fsync; it counts as stored, and is passed on, only once it is on disk.
        onDisk.thenRun(() -> {
            seenMessages.remember(messageText, id);
            List<OutgoingConnection> peers = outgoingSnapshot();
            for (OutgoingConnection peer : peers) {
                peer.send(messageText);
                events.publish("out", "TRANSACTION", peer.address, id);
            }
            log.log(INFO, "stored transaction " + id + " from " + from + "; passed it to " + peers.size() + " peers");
        }).exceptionally(failure -> {
            log.log(WARNING, "could not store transaction " + id + " from " + from + ": " + failure.getMessage());
            return null;
        });
    }

    private static String message(String type, JsonElement data) {
        JsonObject message = new JsonObject();
        message.addProperty("type", type);
        message.add("data", data);
        return gson.toJson(message);
    }

    static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "... (" + text.length() + " chars)";
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
