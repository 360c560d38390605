package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import wirelab.Trace;
import wirelab.websocket.HttpResponse;
import wirelab.websocket.IncomingConnection;
import wirelab.websocket.WebSocketServer;

/**
 * A node of the freeCodeCamp peer-to-peer network. Each node runs a WebSocket server on its
 * {@code PORT} and knows itself by {@code MY_ADDRESS} ({@code ws://localhost:PORT} unless its
 * {@code .env} says otherwise). Messages are JSON text frames {@code {"type": ..., "data": ...}}:
 *
 * <ul>
 * <li>{@code HANDSHAKE}, data = the addresses the sender is connected to, plus its own. A node
 *     sends it as soon as one of its outgoing connections opens. A node that receives it learns
 *     the addresses and dials them while it has slots free ({@link Membership}): so the mesh
 *     grows from {@code known-peers.json}, into the curriculum's full mesh while it is small.
 * <li>{@code TRANSACTION}, data = a transaction object. A node stores it in
 *     {@code transactions.json} and passes it on to its neighbours, on connections of either
 *     direction ({@link BroadcastTree}). The transaction's id stops the message from looping
 *     (see {@link #receiveTransaction}).
 * <li>Between nodes of ours only: {@code IHAVE}, {@code GRAFT} and {@code PRUNE}, which keep the
 *     copies of a transaction close to one per node ({@link BroadcastTree}), and {@code SYNC} and
 *     the steps after it, which bring two pools to their union ({@link CatchUp}).
 * </ul>
 *
 * <p>Outgoing connections use the JDK's {@code java.net.http.WebSocket} client
 * ({@link OutgoingConnection}); incoming ones arrive through {@link WebSocketServer}
 * ({@link IncomingConnection}). To gossip, both are a {@link Neighbour}.
 */
public final class PeerNode implements AutoCloseable {

    private static final System.Logger log = System.getLogger("peer-node");
    private static final Gson gson = new Gson();

    /** The largest message taken from any peer: the server's limit for incoming, ours for outgoing. */
    static final int MAX_MESSAGE_BYTES = 1 << 20;
    /** RFC 6455's close code for a peer that broke a rule of this node (7.4.1). */
    static final int POLICY_VIOLATION = 1008;
    /**
     * How often the heartbeat looks for overdue GRAFTs. Every fifth beat (half a second, as
     * gossipsub's one-second heartbeat but quicker to repair) it sends the IHAVEs, so that a
     * burst shares them; every tenth it fills free slots. Measured at 500 nodes with 100 ms
     * between IHAVEs: 6.7 IHAVEs per node per transaction of a burst, against the budget of 8
     * messages for everything.
     */
    private static final long HEARTBEAT_MS = 100;

    private final NodeConfig config;
    private final TransactionPool pool;
    private final CatchUp catchUp;
    private final BroadcastTree broadcast;
    private final SeenMessages seenMessages = new SeenMessages();
    private final NodeEvents events = new NodeEvents();
    private final MessageCounts counts = new MessageCounts();
    private final Strangers strangers;
    private final ExecutorService virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient httpClient = HttpClient.newBuilder().executor(virtualThreads).build();
    private volatile boolean running = true;

    // Set once by start(), before `whole` opens; the server's threads wait for it, so nothing
    // that arrives early meets a half-built node, and the latch publishes these fields to them.
    private final CountDownLatch whole = new CountDownLatch(1);
    private WebSocketServer server;
    private String myAddress;   // MY_ADDRESS, or ws://localhost:PORT once the server listens
    private PeerAddresses addresses;
    private Membership membership;

    private PeerNode(NodeConfig config, TransactionPool pool) {
        this.config = config;
        this.pool = pool;
        this.strangers = new Strangers(config.limits().catchUpBytesPerMinute());
        this.catchUp = new CatchUp(pool, events, config.syncIntervalMs());
        this.broadcast = new BroadcastTree(pool, events);
    }

    /** Loads the transaction pool, listens on the port, then dials every known peer. */
    public static PeerNode start(NodeConfig config) throws IOException {
        PeerNode node = new PeerNode(config, TransactionPool.load(config.folder().resolve("transactions.json")));
        MeshView view = new MeshView(node);
        node.server = WebSocketServer.start(WebSocketServer.Options.onPort(config.port()).withHost(config.host())
                        .withMaxMessageBytes(MAX_MESSAGE_BYTES).withMaxConnections(config.maxConnections())
                        .withMaxConnectionsPerSource(config.limits().maxConnectionsPerSource())
                        .withOriginAllowed(node::isAllowedOrigin)
                        .withPingIntervalMs(config.pingIntervalMs()),
                node.incoming, request -> node.awaitWhole() ? view.answer(request) : node.notReady());
        node.myAddress = config.myAddress() != null ? config.myAddress() : "ws://localhost:" + node.server.port();
        node.addresses = new PeerAddresses(node.myAddress, node.server.port(), config.allowedPeerHosts(), config.allowedOrigins());
        List<String> knownPeers = new ArrayList<>();
        for (String knownPeer : config.knownPeers()) {
            String address = node.usableAddress(knownPeer, null);
            if (address != null) {
                knownPeers.add(address);
            }
        }
        node.membership = new Membership(config, node.myAddress, knownPeers, node, node.httpClient, node.counts,
                node.strangers);
        node.whole.countDown();
        log.log(INFO, node.myAddress + " listening on " + node.server.listeningOn()
                + (PeerAddresses.isLoopbackOnly(config.host()) ? " (loopback only; HOST=0.0.0.0 and MY_ADDRESS in .env expose it)" : "")
                + " with " + node.pool.count() + " transactions in its pool; live view at "
                + node.myAddress.replaceFirst("^ws:", "http:") + "/");
        if (config.pingIntervalMs() > 0) {
            Thread.ofVirtual().name("peer-keep-alive").start(node::keepAlive);
        }
        Thread.ofVirtual().name("peer-heartbeat").start(node::heartbeat);
        node.membership.start();
        return node;
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
        return membership.connectedAddresses();
    }

    public List<String> attemptingToConnectToAddress() {
        return membership.attemptingToConnectToAddress();
    }

    /** The neighbours that dialed us, by the address each gave (or host:port). */
    public List<String> incomingAddresses() {
        return membership.incomingAddresses();
    }

    /** Every neighbour, each as {"address", "direction": "out" or "in", "link": "eager", "lazy" or "curriculum"}. */
    List<JsonObject> neighbours() {
        List<JsonObject> list = new ArrayList<>();
        for (Neighbour neighbour : membership.neighbours()) {
            JsonObject each = new JsonObject();
            each.addProperty("address", neighbour.address() != null ? neighbour.address() : neighbour.peer);
            each.addProperty("direction", neighbour.direction == Neighbour.Direction.OUTGOING ? "out" : "in");
            each.addProperty("link", !neighbour.speaksWirelab() ? "curriculum" : neighbour.link.isEager() ? "eager" : "lazy");
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
        return membership.addressBookSize();
    }

    /** Bytes this node has sent to bring peers up to date (catch-up messages and the transactions they asked for). */
    public long catchUpBytesSent() {
        return catchUp.bytesSent();
    }

    /** What this node refused since it started, by reason (see {@link MessageCounts}). */
    public java.util.Map<String, Long> refused() {
        return counts.refused();
    }

    /** The counters of the {@code atMost} sources heard from most recently (see {@link Strangers}). */
    java.util.Map<String, Object> sources(int atMost) {
        return strangers.counters(atMost);
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
        running = false;
        if (politely) {
            server.close();
        } else {
            server.abort();
        }
        membership.stop(politely);
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
        List<String> handshakeData = membership.connected(connection);
        connection.neighbour.send("HANDSHAKE", message("HANDSHAKE", gson.toJsonTree(handshakeData)));
        events.publish("out", "HANDSHAKE", connection.address, null);
        log.log(INFO, "connected to " + connection.address + "; sent HANDSHAKE " + handshakeData);
    }

    /** The outgoing connection closed or failed: the address leaves connectedAddresses. */
    void disconnected(OutgoingConnection connection, String why) {
        if (membership.disconnected(connection)) {
            broadcast.forget(connection.neighbour);
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
        public void onClose(IncomingConnection connection, int code, String reason) {
            Neighbour gone = membership.closed(connection);
            if (gone != null) {
                broadcast.forget(gone);
            }
        }
    };

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
            membership.outgoingConnections().forEach(connection -> connection.checkLiveness(config.pingIntervalMs()));
        }
    }

    /**
     * The node's clock: IHAVEs for what was stored since the last beat, GRAFTs for announced
     * transactions that did not come, free outgoing slots filled from the address book (and,
     * when it runs dry, a neighbour asked for more), and every SYNC_INTERVAL_MS (give or take a fifth, so nodes
     * do not beat in step) a reconciliation with a neighbour picked at random.
     */
    private void heartbeat() {
        long beats = 0;
        long nextSync = System.nanoTime() + jitteredSyncIntervalNanos();
        while (running) {
            try {
                Thread.sleep(HEARTBEAT_MS);
            } catch (InterruptedException e) {
                return;
            }
            broadcast.graftOverdue();
            if (++beats % 5 == 0) {
                broadcast.flushAnnouncements(membership.neighbours());
            }
            if (beats % 10 == 0 && membership.fill() && beats % 50 == 0) {
                askForAddresses();
            }
            if (System.nanoTime() - nextSync > 0) {
                syncWithANeighbour();
                nextSync = System.nanoTime() + jitteredSyncIntervalNanos();
            }
        }
    }

    /**
     * Slots are free and the address book has nothing to fill them: our HANDSHAKE again to one
     * outgoing neighbour of ours, picked at random, which answers with its own (at most every 5 s).
     */
    private void askForAddresses() {
        List<Neighbour> ours = membership.neighbours().stream()
                .filter(n -> n.direction == Neighbour.Direction.OUTGOING && n.speaksWirelab()).toList();
        if (!ours.isEmpty()) {
            Neighbour asked = ours.get(ThreadLocalRandom.current().nextInt(ours.size()));
            asked.send("HANDSHAKE", message("HANDSHAKE", gson.toJsonTree(membership.handshakeData())));
            log.log(INFO, "address book ran dry with slots free; sent HANDSHAKE to " + asked + " again for its neighbours");
        }
    }

    private long jitteredSyncIntervalNanos() {
        return (long) (config.syncIntervalMs() * 1_000_000L * ThreadLocalRandom.current().nextDouble(0.8, 1.2));
    }

    private void syncWithANeighbour() {
        List<Neighbour> candidates = membership.neighbours().stream()
                .filter(n -> n.speaksWirelab() && catchUp.due(n)).toList();
        if (!candidates.isEmpty()) {
            catchUp.start(candidates.get(ThreadLocalRandom.current().nextInt(candidates.size())));
        }
    }

    // --- the messages -------------------------------------------------------------------------

    /** Every message from every connection, in or out, comes through here, parsed once. */
    void receive(String text, Neighbour from) {
        try {
            from.paceMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // the node is stopping
            return;
        }
        String seenId = seenMessages.idOf(text);
        if (seenId != null) {
            try {
                from.paceTransaction();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            counts.received("TRANSACTION");
            events.publish("in", "TRANSACTION", from.peer, seenId);
            alreadyHave(seenId, from);
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
            invalid(from, "ignored a message from " + from + ": expected a JSON object, got " + abbreviate(text));
            return;
        }
        JsonElement type = message.get("type");
        JsonElement data = message.has("data") ? message.get("data") : JsonNull.INSTANCE;
        String typeName = type != null && type.isJsonPrimitive() ? type.getAsString() : String.valueOf(type);
        counts.received(typeName);
        if (!typeName.equals("TRANSACTION")) {   // a TRANSACTION is told once its id is known
            events.publish("in", PeerNode.abbreviate(typeName), from.peer, null);
        }
        switch (typeName) {
            case "HANDSHAKE" -> {
                if (!data.isJsonArray()) {
                    invalid(from, "ignored a HANDSHAKE from " + from + ": data must be an array of addresses, got "
                            + abbreviate(data.toString()));
                    return;
                }
                receiveHandshake(data.getAsJsonArray(), from);
            }
            case "TRANSACTION" -> {
                if (!data.isJsonObject()) {
                    invalid(from, "ignored a TRANSACTION from " + from + ": data must be an object, got "
                            + abbreviate(String.valueOf(data)));
                    return;
                }
                try {
                    receiveTransaction(data.getAsJsonObject(), text, from);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();   // the node is stopping
                }
            }
            case "SYNC", "SYNC_BUCKETS", "SYNC_IDS", "SYNC_WANT" -> {
                from.showedItSpeaksWirelab();
                catchUp.receive(from, typeName, data);
            }
            case "IHAVE", "GRAFT", "PRUNE" -> receiveTreeMessage(typeName, data, from);
            // A newer node may speak types we do not know; like the curriculum's nodes, we let them pass.
            default -> from.log(INFO, "ignored a message from " + from + ": unknown type " + abbreviate(typeName)
                    + " (this node speaks HANDSHAKE, TRANSACTION, IHAVE, GRAFT, PRUNE and the SYNC messages of catch-up)");
        }
    }

    /**
     * A message this node cannot use: logged within the source's quota, and counted against its
     * budget of invalid messages. Past that budget the peer is hung up on with 1008 (policy
     * violation) and its address backed off; the budget outlives the connection, so
     * reconnecting does not renew it.
     */
    void invalid(Neighbour from, String line) {
        from.log(WARNING, line);
        counts.refused("invalid message");
        from.source.refused("invalid message");
        if (!from.source.invalid.tryTake(1)) {
            counts.refused("hung up: too many invalid messages");
            from.log(WARNING, "hung up on " + from + ": more than " + Strangers.INVALID_BURST + " invalid messages");
            from.close(POLICY_VIOLATION, "too many invalid messages");
            if (from.address() != null) {
                membership.backOff(from.address());
            }
        }
    }

    /**
     * A HANDSHAKE teaches addresses. The first one on a connection a peer opened also makes the
     * peer a neighbour, if we have room; a node of ours that dialed us is answered with our own
     * HANDSHAKE (so it learns our neighbours too, even when we refuse it) and a SYNC, which
     * starts catch-up.
     */
    private void receiveHandshake(JsonArray data, Neighbour from) {
        from.log(INFO, "HANDSHAKE from " + from + ": " + abbreviate(data.toString()));
        if (from.direction == Neighbour.Direction.INCOMING && !from.isNeighbour()) {
            if (!membership.handshook(from)) {
                log.log(INFO, "refused " + from + " as a neighbour: already " + config.maxIncomingPeers()
                        + " incoming (MAX_INCOMING_PEERS)");
                if (from.speaksWirelab()) {   // it learns where else to go
                    from.send("HANDSHAKE", message("HANDSHAKE", gson.toJsonTree(membership.peerExchangeData())));
                }
                from.close(Membership.TRY_AGAIN_LATER, "this node has " + config.maxIncomingPeers()
                        + " incoming neighbours, its limit; try another");
                return;
            }
            if (from.speaksWirelab()) {
                from.mayAnswerHandshake();
                from.send("HANDSHAKE", message("HANDSHAKE", gson.toJsonTree(membership.peerExchangeData())));
                catchUp.start(from);
            } else if (!data.isEmpty() && data.get(data.size() - 1).isJsonPrimitive()) {
                // A curriculum node hears only on connections dialed to it, so we dial back the
                // address it names for itself (the last in its HANDSHAKE), even at MAX_PEERS.
                String itself = usableAddress(data.get(data.size() - 1).getAsString(), from);
                if (itself != null) {
                    membership.dialBack(itself);
                }
            }
        } else if (from.direction == Neighbour.Direction.INCOMING && from.speaksWirelab() && from.mayAnswerHandshake()) {
            // a node of ours whose address book ran dry asks again: it learns our neighbours
            from.send("HANDSHAKE", message("HANDSHAKE", gson.toJsonTree(membership.peerExchangeData())));
        }
        int limit = config.maxAddressesPerHandshake();
        if (data.size() > limit) {
            from.log(WARNING, "HANDSHAKE from " + from + " lists " + data.size() + " addresses; taking the first " + limit);
        }
        List<String> learned = new ArrayList<>();
        int overRate = 0;
        for (int i = 0; i < Math.min(limit, data.size()); i++) {
            JsonElement address = data.get(i);
            if (!address.isJsonPrimitive() || !address.getAsJsonPrimitive().isString()) {
                invalid(from, "ignored " + abbreviate(address.toString()) + " in a HANDSHAKE from " + from
                        + ": expected a \"ws://host:port\" string");
                continue;
            }
            String usable = usableAddress(address.getAsString(), from);
            if (usable == null || membership.isKnown(usable)) {
                continue;
            }
            // A stranger's addresses are dials we would make for it: at a bounded rate per source.
            if (!from.source.addresses.tryTake(1)) {
                overRate++;
                continue;
            }
            learned.add(usable);
        }
        if (overRate > 0) {
            counts.refused("addresses past the source's rate");
            from.source.refused("addresses past the source's rate");
            from.log(INFO, "HANDSHAKE from " + from + ": left " + overRate + " new addresses unlearned: more than "
                    + Strangers.ADDRESS_BURST + " from one source, or one per " + (int) (1 / Strangers.ADDRESSES_PER_SECOND) + " s");
        }
        membership.learned(learned);
    }

    /**
     * The address in canonical form when this node may dial it; null (logged where it is wrong)
     * when not. {@code from} is the neighbour that named it, or null for known-peers.json: the
     * user's own list may name any port, a stranger's never one on the bad-ports list.
     */
    private String usableAddress(String rawAddress, Neighbour from) {
        String learnedFrom = from == null ? "known-peers.json" : "HANDSHAKE from " + from;
        String address = PeerAddresses.normalize(rawAddress);
        String problem = address == null ? "expected ws://host:port"
                : addresses.isOwn(address) ? null
                : !addresses.isAllowed(address) ? "its host is not in ALLOWED_PEER_HOSTS " + addresses.allowedPeerHosts()
                : from != null && PeerAddresses.isBadPort(address) ? "its port is on the bad-ports list (a port of another "
                        + "protocol, such as SMTP's 25: dialing it would make this node a tool for port scans)"
                : null;
        if (problem == null) {
            return address == null || addresses.isOwn(address) ? null : address;
        }
        String line = "will not dial " + abbreviate(rawAddress) + " from " + learnedFrom + ": " + problem;
        if (from == null) {
            log.log(WARNING, line);
        } else {
            counts.refused(problem.startsWith("its port") ? "address on a bad port" : "address not allowed");
            from.log(WARNING, line);
        }
        return null;
    }

    /** IHAVE, GRAFT and PRUNE are for neighbours: a client that never said HANDSHAKE has no link to prune or graft. */
    private void receiveTreeMessage(String type, JsonElement data, Neighbour from) {
        if (!from.isNeighbour()) {
            invalid(from, "ignored a " + type + " from " + from + ": it is not a neighbour (it sent no HANDSHAKE)");
            return;
        }
        from.showedItSpeaksWirelab();
        switch (type) {
            case "IHAVE" -> broadcast.receiveIHave(from, data);
            case "GRAFT" -> broadcast.receiveGraft(from, data);
            default -> broadcast.receivePrune(from);
        }
    }

    /**
     * Stores the transaction, then passes the message on, as it came ({@link BroadcastTree}).
     * Gossip meets itself coming back: a node hears a transaction from more than one neighbour.
     * So each transaction has an id ({@link TransactionId}: its own id field, else one every
     * node derives alike from its content); a node stores and passes on only ids it has not
     * stored, which stops the loop. The ids are read back from transactions.json, so a node that
     * restarts still knows what it stored. The message goes on unchanged, byte for byte: a
     * curriculum node compares transactions by content, and would store a changed copy again.
     */
    private void receiveTransaction(JsonObject transaction, String messageText, Neighbour from) throws InterruptedException {
        String id;
        try {
            id = TransactionId.of(transaction);
        } catch (IllegalArgumentException e) {
            invalid(from, "ignored a TRANSACTION from " + from + ": " + e.getMessage());
            return;
        }
        events.publish("in", "TRANSACTION", from.peer, id);
        from.paceTransaction();
        if (pool.contains(id)) {
            seenMessages.remember(messageText, id);
            alreadyHave(id, from);
            return;
        }
        String json = gson.toJson(transaction);
        String refusal = refusal(json);
        if (refusal != null) {
            counts.refused(refusal);
            from.source.refused(refusal);
            from.log(WARNING, "refused transaction " + abbreviate(id) + " from " + from + ": " + refusal);
            return;
        }
        CompletableFuture<Void> onDisk = pool.add(id, json);
        if (onDisk == null) {
            seenMessages.remember(messageText, id);
            alreadyHave(id, from);
            return;
        }
        // This connection's next message is read while the pool writes this one, so a burst shares
        // one append and one fsync; it counts as stored, and is passed on, only once it is on disk.
        onDisk.thenRun(() -> {
            from.source.accepted();
            seenMessages.remember(messageText, id);
            broadcast.stored(id);
            List<Neighbour> neighbours = membership.neighbours();
            broadcast.broadcast(id, messageText, from, neighbours);
            log.log(INFO, "stored transaction " + id + " from " + from + "; passed it on to " + neighbours.size() + " neighbours");
        }).exceptionally(failure -> {
            log.log(WARNING, "could not store transaction " + id + " from " + from + ": " + failure.getMessage());
            return null;
        });
    }

    /** Why a new transaction cannot be stored, or null: too big for MAX_TRANSACTION_BYTES, or the pool at MAX_POOL_BYTES. */
    private String refusal(String transactionJson) {
        int bytes = OutgoingConnection.utf8Length(transactionJson);
        if (bytes > config.limits().maxTransactionBytes()) {
            return "larger than MAX_TRANSACTION_BYTES (" + config.limits().maxTransactionBytes() + ")";
        }
        if (pool.bytes() + bytes > config.limits().maxPoolBytes()) {
            return "the pool is full (MAX_POOL_BYTES " + config.limits().maxPoolBytes() + ")";
        }
        return null;
    }

    private void alreadyHave(String id, Neighbour from) {
        broadcast.duplicate(from, membership::neighbours);
        from.log(INFO, "already have transaction " + id + " (from " + from + "); not passing it on");
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
