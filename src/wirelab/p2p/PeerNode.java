package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

/**
 * A node of the freeCodeCamp peer-to-peer network. Each node runs a WebSocket server on its
 * {@code PORT} and knows itself as {@code ws://localhost:PORT}. Messages are JSON text frames
 * {@code {"type": ..., "data": ...}}:
 *
 * <ul>
 * <li>{@code HANDSHAKE}, data = the addresses the sender is connected to, plus its own. A node
 *     sends it as soon as one of its outgoing connections opens. A node that receives it
 *     connects to every address it is not connected to, not already attempting, and not its
 *     own. So the mesh grows from {@code known-peers.json} until everyone knows everyone.
 * <li>{@code TRANSACTION}, data = a transaction object. A node stores it in
 *     {@code transactions.json} and passes it to every node it is connected to. The
 *     transaction's {@code id} stops the message from looping (see {@link #receiveTransaction}).
 * </ul>
 *
 * <p>Outgoing connections use the JDK's {@code java.net.http.WebSocket} client; incoming ones
 * arrive through {@link WebSocketServer}. As in the curriculum, {@code connectedAddresses} holds
 * the servers this node has an open outgoing connection to, and
 * {@code attemptingToConnectToAddress} the ones it is dialing, so it never dials one twice.
 */
public final class PeerNode implements AutoCloseable {

    private static final System.Logger log = System.getLogger("peer-node");
    private static final Gson gson = new Gson();

    /** Everything a node is told at start; {@link #fromFolder} reads it from a node folder. */
    public record Config(Path folder, int port, List<String> knownPeers, String host,
                         Set<String> allowedPeerHosts, int maxPeers, int maxAddressesPerHandshake) {
        /** A node on loopback that dials only loopback peers, at most 100 of them. */
        public static Config of(Path folder, int port, List<String> knownPeers) {
            return new Config(folder, port, knownPeers, "localhost", Set.of(LOOPBACK), 100, 100);
        }
    }

    /** In ALLOWED_PEER_HOSTS: localhost, any 127.x.y.z and [::1]. */
    static final String LOOPBACK = "loopback";

    /** The largest message taken from a peer we dialed, as WebSocketServer limits the others. */
    static final int MAX_MESSAGE_BYTES = 1 << 20;

    private final Config config;
    private WebSocketServer server;
    private String myAddress;   // ws://localhost:PORT, known once the server listens

    // The curriculum's two collections, guarded by peersLock so that "not connected and not
    // attempting" and "now attempting" happen as one step.
    private final Map<String, Peer> connectedAddresses = new LinkedHashMap<>();
    private final Set<String> attemptingToConnectToAddress = new HashSet<>();
    private final ReentrantLock peersLock = new ReentrantLock();

    private final TransactionPool pool;

    // Known peers are the way into the mesh, so a node keeps trying them: one that cannot be
    // reached (not started yet, restarting) is tried again after 1 s, then 2, 4, up to 10 s, for
    // as long as this node runs. Peers learned from a HANDSHAKE are not retried: whoever told us
    // about them tells us again when they are back.
    private final Set<String> knownPeerAddresses = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> retryDelayMs = new ConcurrentHashMap<>();
    private volatile boolean running = true;

    private final ExecutorService virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient httpClient = HttpClient.newBuilder().executor(virtualThreads).build();

    private PeerNode(Config config, TransactionPool pool) {
        this.config = config;
        this.pool = pool;
    }

    /** Loads the transaction pool, listens on the port, then dials every known peer. */
    public static PeerNode start(Config config) throws IOException {
        PeerNode node = new PeerNode(config, TransactionPool.load(config.folder().resolve("transactions.json")));
        node.server = WebSocketServer.start(
                WebSocketServer.Options.onPort(config.port()).withHost(config.host()).withMaxMessageBytes(MAX_MESSAGE_BYTES),
                node.incoming, node::answerPlainHttp);
        node.myAddress = "ws://localhost:" + node.server.port();
        log.log(INFO, node.myAddress + " listening on " + node.server.listeningOn()
                + (config.host().equals("localhost") ? " (loopback only; HOST=0.0.0.0 in .env exposes it)" : "") + " with "
                + node.pool.count() + " transactions in its pool; live view at http://localhost:" + node.server.port() + "/");
        for (String knownPeer : config.knownPeers()) {
            String address = normalizeAddress(knownPeer);
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

    /** Leaves the network politely: close frames to every peer, then stop listening. */
    @Override
    public void close() {
        running = false;
        server.close();
        for (Peer peer : peersSnapshot()) {
            peer.socket.sendClose(WebSocket.NORMAL_CLOSURE, "node stopping");
            peer.stop();
        }
        httpClient.shutdownNow();
        virtualThreads.shutdownNow();
        log.log(INFO, myAddress + " stopped");
    }

    /** Drops every connection without a close frame, as a killed process would. For fault drills. */
    public void abort() {
        running = false;
        server.abort();
        for (Peer peer : peersSnapshot()) {
            peer.socket.abort();
            peer.stop();
        }
        httpClient.shutdownNow();
        virtualThreads.shutdownNow();
        log.log(INFO, myAddress + " aborted");
    }

    // --- dialing out: connectedAddresses and attemptingToConnectToAddress --------------------

    /** Opens an outgoing connection to {@code address} unless the rules say not to. */
    private void connectTo(String rawAddress, String learnedFrom) {
        String address = normalizeAddress(rawAddress);
        if (address == null) {
            log.log(WARNING, "ignored address " + rawAddress + " from " + learnedFrom + ": expected ws://host:port");
            return;
        }
        if (isOwnAddress(address)) {
            return;
        }
        if (!isAllowedHost(URI.create(address).getHost())) {
            log.log(WARNING, "will not dial " + address + " from " + learnedFrom
                    + ": its host is not in ALLOWED_PEER_HOSTS " + config.allowedPeerHosts());
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
                .buildAsync(URI.create(address), new OutgoingListener(address))
                .whenComplete((socket, error) -> {
                    if (error != null) {
                        forgetAttempt(address);
                        log.log(INFO, "could not connect to " + address + ": " + rootMessage(error));
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

    private void forgetAttempt(String address) {
        underPeersLock(() -> attemptingToConnectToAddress.remove(address));
    }

    /** The outgoing connection opened: it joins connectedAddresses, and we say HANDSHAKE. */
    private void connected(String address, WebSocket socket) {
        Peer peer = new Peer(address, socket);
        List<String> handshakeData;
        peersLock.lock();
        try {
            connectedAddresses.put(address, peer);
            attemptingToConnectToAddress.remove(address);
            handshakeData = new ArrayList<>(connectedAddresses.keySet());
        } finally {
            peersLock.unlock();
        }
        retryDelayMs.remove(address);
        handshakeData.add(myAddress);
        peer.send(message("HANDSHAKE", gson.toJsonTree(handshakeData)));
        log.log(INFO, "connected to " + address + "; sent HANDSHAKE " + handshakeData);
    }

    /** The outgoing connection closed or failed: the address leaves connectedAddresses. */
    private void disconnected(String address, Peer peer, String why) {
        boolean removed = underPeersLock(() -> connectedAddresses.remove(address, peer));
        peer.stop();
        if (removed) {
            log.log(INFO, "connection to " + address + " closed (" + why + ")");
            retryIfKnownPeer(address);
        }
    }

    private List<Peer> peersSnapshot() {
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

    /** Messages from servers we dialed are handled like any other; their close removes them. */
    private final class OutgoingListener implements WebSocket.Listener {
        private final String address;
        private final StringBuilder partial = new StringBuilder();
        private Peer peer;

        OutgoingListener(String address) {
            this.address = address;
        }

        @Override
        public void onOpen(WebSocket socket) {
            connected(address, socket);
            peer = peerFor(address);
            socket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (partial.length() > MAX_MESSAGE_BYTES) {
                socket.abort();
                disconnected(address, peer, "sent a message over the size limit");
                return null;
            }
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                receive(text, address);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
            if (peer != null) {
                disconnected(address, peer, statusCode + (reason.isEmpty() ? "" : " " + reason));
            }
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            if (peer != null) {
                disconnected(address, peer, rootMessage(error));
            }
        }
    }

    private Peer peerFor(String address) {
        return underPeersLock(() -> connectedAddresses.get(address));
    }

    /**
     * One outgoing connection. The JDK client allows one send in flight at a time, and a peer
     * that stops reading must not stall the others, so each peer gets its own queue and its
     * own sending thread; a peer that cannot take a message within 5 s is dropped.
     */
    private final class Peer {
        final String address;
        final WebSocket socket;
        private final BlockingQueue<String> outbox = new LinkedBlockingQueue<>(10_000);
        private final Thread sender;

        Peer(String address, WebSocket socket) {
            this.address = address;
            this.socket = socket;
            this.sender = Thread.ofVirtual().name("sender-" + address).start(this::sendLoop);
        }

        void send(String text) {
            if (!outbox.offer(text)) {
                log.log(WARNING, address + " is not keeping up (10,000 messages queued); dropping it");
                socket.abort();
                disconnected(address, this, "outbox full");
            }
        }

        private void sendLoop() {
            try {
                while (true) {
                    String text = outbox.take();
                    socket.sendText(text, true).get(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                // stopped
            } catch (Exception e) {
                socket.abort();
                disconnected(address, this, "send failed: " + rootMessage(e));
            }
        }

        void stop() {
            sender.interrupt();
        }
    }

    // --- incoming connections: anyone may connect and send us messages ----------------------

    private final WebSocketServer.Listener incoming = new WebSocketServer.Listener() {
        @Override
        public void onText(WebSocketServer.Connection connection, String text) {
            receive(text, "incoming " + connection);
        }
    };

    // --- the messages -------------------------------------------------------------------------

    /** Every message from every connection, in or out, comes through here. */
    private void receive(String text, String from) {
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
                receiveTransaction(data.getAsJsonObject(), from);
            }
            default -> log.log(WARNING, "ignored a message from " + from + ": unknown type " + abbreviate(typeName)
                    + " (expected HANDSHAKE or TRANSACTION)");
        }
    }

    private void receiveHandshake(JsonArray addresses, String from) {
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
     * Stores the transaction, then passes it to every connected node. Gossip meets itself
     * coming back: in a full mesh every node hears each transaction from every other. So each
     * transaction carries an {@code id}; a node stores and passes on only ids it has not seen,
     * which stops the loop after one round. The id comes from whoever made the transaction or,
     * when it has none (as from the curriculum's add-transaction.js), from the first node that
     * receives it: a random UUID, added to the transaction before it is stored or passed on, so
     * every copy carries the same one. Ids live in transactions.json with the transactions, so
     * a node that restarts still knows what it has already stored.
     */
    private void receiveTransaction(JsonObject transaction, String from) {
        // the object was parsed from this message alone, so adding the id to it in place is safe
        JsonElement idElement = transaction.get("id");
        if (idElement == null) {
            transaction.addProperty("id", UUID.randomUUID().toString());
        } else if (!idElement.isJsonPrimitive() || idElement.getAsString().isEmpty() || idElement.getAsString().length() > 200) {
            log.log(WARNING, "ignored a TRANSACTION from " + from + ": its id must be a string or number of 1 to 200 characters, got "
                    + abbreviate(idElement.toString()));
            return;
        }
        String id = transaction.get("id").getAsString();
        if (!pool.store(id, transaction)) {
            log.log(INFO, "already have transaction " + id + " (from " + from + "); not passing it on");
            return;
        }
        List<Peer> peers = peersSnapshot();
        String message = message("TRANSACTION", transaction);
        for (Peer peer : peers) {
            peer.send(message);
        }
        log.log(INFO, "stored transaction " + id + " from " + from + "; passed it to " + peers.size() + " peers");
    }

    private static String message(String type, JsonElement data) {
        JsonObject message = new JsonObject();
        message.addProperty("type", type);
        message.add("data", data);
        return gson.toJson(message);
    }

    // --- the live view: plain GET / and GET /status on the node's own port -------------------

    private static final byte[] MESH_PAGE = loadMeshPage();

    /**
     * A browser's GET is not a WebSocket upgrade, so WebSocketServer hands it here. "/" is the
     * live view (mesh.html); "/status" is this node's own state, which the page asks every node
     * for. Its CORS header lets a page served by one node read another node's status.
     */
    private WebSocketServer.HttpResponse answerPlainHttp(WebSocketServer.HttpRequest request) {
        String path = request.target().replaceFirst("\\?.*$", "");
        return switch (path) {
            case "/" -> new WebSocketServer.HttpResponse(200,
                    Map.of("Content-Type", "text/html; charset=utf-8", "Cache-Control", "no-store"), MESH_PAGE);
            case "/status" -> new WebSocketServer.HttpResponse(200,
                    Map.of("Content-Type", "application/json", "Access-Control-Allow-Origin", "*", "Cache-Control", "no-store"),
                    statusJson().getBytes(StandardCharsets.UTF_8));
            default -> WebSocketServer.HttpResponse.text(404, "nothing at " + abbreviate(path)
                    + "; try / (the live mesh view) or /status");
        };
    }

    String statusJson() {
        JsonObject status = new JsonObject();
        status.addProperty("address", myAddress);
        status.add("connectedAddresses", gson.toJsonTree(connectedAddresses()));
        status.add("attemptingToConnectToAddress", gson.toJsonTree(attemptingToConnectToAddress()));
        status.addProperty("transactionCount", transactionCount());
        return gson.toJson(status);
    }

    private static byte[] loadMeshPage() {
        try (var in = PeerNode.class.getResourceAsStream("mesh.html")) {
            if (in == null) {
                throw new IllegalStateException("mesh.html is missing from the class path (make build copies it)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // --- addresses ----------------------------------------------------------------------------

    /** "ws://host:port" in canonical form (lower-case host, no trailing slash), or null. */
    static String normalizeAddress(String address) {
        try {
            URI uri = new URI(address.trim());
            boolean bare = uri.getRawUserInfo() == null && uri.getRawQuery() == null && uri.getRawFragment() == null
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"));
            if (!"ws".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 1 || !bare) {
                return null;
            }
            return "ws://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + uri.getPort();
        } catch (URISyntaxException e) {
            return null;
        }
    }

    private boolean isOwnAddress(String address) {
        URI uri = URI.create(address);
        return uri.getPort() == port() && (isLoopback(uri.getHost()) || uri.getHost().equals(config.host()));
    }

    private boolean isAllowedHost(String host) {
        return config.allowedPeerHosts().contains(host)
                || (config.allowedPeerHosts().contains(LOOPBACK) && isLoopback(host));
    }

    private static boolean isLoopback(String host) {
        return host.equals("localhost") || host.equals("[::1]") || host.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    /**
     * What went wrong, from the HttpClient's chain of wrapped causes, e.g. "ConnectException
     * <- ClosedChannelException" for a port nobody listens on.
     */
    private static String rootMessage(Throwable error) {
        List<String> causes = new ArrayList<>();
        for (Throwable e = error; e != null; e = e.getCause()) {
            if (e instanceof CompletionException || e instanceof ExecutionException) {
                continue;   // wrappers that only repeat their cause
            }
            boolean quiet = e.getMessage() == null || e.getMessage().isBlank();
            causes.add(e.getClass().getSimpleName() + (quiet ? "" : ": " + e.getMessage()));
        }
        return String.join(" <- ", causes);
    }

    private static String abbreviate(String text) {
        return text.length() <= 200 ? text : text.substring(0, 200) + "... (" + text.length() + " chars)";
    }

    // --- a node folder: .env and known-peers.json ----------------------------------------------

    /**
     * Reads a node folder. {@code .env} holds {@code PORT} (required) and, optionally,
     * {@code HOST} (where to listen: "localhost" = loopback only, the default; 0.0.0.0 exposes
     * the node), {@code ALLOWED_PEER_HOSTS} (comma list of hosts it may dial; "loopback", the
     * default, means localhost, 127.x.y.z and [::1]), {@code MAX_PEERS} (default 100) and
     * {@code MAX_HANDSHAKE_ADDRESSES} (default 100).
     */
    public static Config fromFolder(Path folder) throws IOException {
        Map<String, String> env = readEnv(folder.resolve(".env"));
        int port = envInt(env, "PORT", -1, 1, 65535);
        Path knownPeersFile = folder.resolve("known-peers.json");
        List<String> knownPeers = new ArrayList<>();
        if (Files.exists(knownPeersFile)) {
            try {
                for (JsonElement element : JsonParser.parseString(Files.readString(knownPeersFile)).getAsJsonArray()) {
                    knownPeers.add(element.getAsString());
                }
            } catch (RuntimeException e) {
                throw new IOException(knownPeersFile + " must be a JSON array of \"ws://host:port\" strings: " + e.getMessage(), e);
            }
        }
        Set<String> allowed = new HashSet<>();
        for (String host : env.getOrDefault("ALLOWED_PEER_HOSTS", LOOPBACK).split(",")) {
            allowed.add(host.trim().toLowerCase(Locale.ROOT));
        }
        return new Config(folder, port, knownPeers, env.getOrDefault("HOST", "localhost"), allowed,
                envInt(env, "MAX_PEERS", 100, 1, 10_000), envInt(env, "MAX_HANDSHAKE_ADDRESSES", 100, 1, 10_000));
    }

    private static Map<String, String> readEnv(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException(file + " is missing; it must hold a line PORT=<number>");
        }
        Map<String, String> env = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            line = line.trim();
            int equals = line.indexOf('=');
            if (line.isEmpty() || line.startsWith("#") || equals < 0) {
                continue;
            }
            String value = line.substring(equals + 1).trim().replaceAll("^[\"']|[\"']$", "");
            env.put(line.substring(0, equals).trim(), value);
        }
        return env;
    }

    private static int envInt(Map<String, String> env, String name, int defaultValue, int min, int max) throws IOException {
        String text = env.get(name);
        if (text == null) {
            if (defaultValue < 0) {
                throw new IOException(".env must set " + name);
            }
            return defaultValue;
        }
        try {
            int value = Integer.parseInt(text);
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IOException(".env: " + name + " must be a whole number from " + min + " to " + max + ", got '" + text + "'");
    }

    /** {@code scripts/run-node.sh node-N} runs this with the node's folder. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1 || args[0].startsWith("-")) {
            System.err.println("usage: scripts/run-node.sh node-N   (runs PeerNode with the folder nodes/node-N)");
            System.exit(args.length == 1 && (args[0].equals("--help") || args[0].equals("-h")) ? 0 : 2);
        }
        PeerNode node;
        try {
            node = start(fromFolder(Path.of(args[0])));
        } catch (IOException e) {
            System.err.println("peer node: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(node::close));
        Thread.currentThread().join();
    }
}
