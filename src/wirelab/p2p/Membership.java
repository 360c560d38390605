package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.stream.Stream;

import wirelab.websocket.IncomingConnection;

/**
 * Who this node is connected to, and whom it dials next: its neighbours, in both directions.
 *
 * <ul>
 * <li>As in the curriculum, {@code connectedAddresses} holds the servers this node has an open
 *     outgoing connection to, and {@code attemptingToConnectToAddress} the ones it is dialing,
 *     so it never dials one twice.
 * <li>It dials at most {@code MAX_PEERS}. The addresses it learns from HANDSHAKEs go into its
 *     {@link AddressBook}; whenever a slot is free (at start, after a HANDSHAKE, when a
 *     neighbour is lost, and every second) it dials addresses picked from the book at random.
 *     A network of up to MAX_PEERS + 1 nodes is still the curriculum's full mesh.
 * <li>Known peers ({@code known-peers.json}) are the way into the network, so each keeps a slot
 *     of its own that learned addresses never take, and one that cannot be reached, refuses us
 *     or drops is tried again after 1 s, then 2, 4, up to 10 s, for as long as the node runs.
 * <li>Incoming neighbours (connections that dialed us and said HANDSHAKE) are capped at
 *     {@code MAX_INCOMING_PEERS}; one more is closed with 1013 "try again later", and its node
 *     dials someone else. A known peer that dials us from its own host is not refused (see
 *     {@link #handshook}). A curriculum node that dials us is dialed back even at MAX_PEERS,
 *     since it hears only on connections dialed to it; its incoming slot bounds how many of
 *     those there are.
 * </ul>
 */
final class Membership {

    private static final System.Logger log = System.getLogger("peer-node");
    /** RFC 6455 close code 1013 (IANA registry): the server is overloaded, try again later or elsewhere. */
    static final int TRY_AGAIN_LATER = 1013;

    private final NodeConfig config;
    private final String myAddress;
    private final PeerNode node;
    private final HttpClient httpClient;
    private final MessageCounts counts;
    private final AddressBook book = new AddressBook();

    // The curriculum's two collections, guarded by peersLock so that "not connected and not
    // attempting" and "now attempting" happen as one step.
    private final Map<String, OutgoingConnection> connectedAddresses = new LinkedHashMap<>();
    private final Set<String> attemptingToConnectToAddress = new HashSet<>();
    private final ReentrantLock peersLock = new ReentrantLock();
    private final Map<IncomingConnection, Incoming> incoming = new ConcurrentHashMap<>();

    /** A connection a peer opened to us, as gossip sees it, and the queue that writes to it. */
    private record Incoming(Neighbour neighbour, Outbox outbox) {
    }

    private final Set<String> knownPeerAddresses = new LinkedHashSet<>();
    private final Map<String, Long> retryDelayMs = new ConcurrentHashMap<>();
    private volatile boolean running = true;
    private final Strangers strangers;

    /** {@code knownPeers} are normalized addresses, none of them this node's own. */
    Membership(NodeConfig config, String myAddress, List<String> knownPeers, PeerNode node, HttpClient httpClient,
               MessageCounts counts, Strangers strangers) {
        this.config = config;
        this.strangers = strangers;
        this.myAddress = myAddress;
        this.node = node;
        this.httpClient = httpClient;
        this.counts = counts;
        knownPeers.stream().limit(config.maxPeers()).forEach(knownPeerAddresses::add);
    }

    /** Dials every known peer; called once, when the node is whole. */
    void start() {
        for (String address : knownPeerAddresses) {
            if (startAttempt(address)) {
                dial(address, "known-peers.json");
            }
        }
    }

    /** No more dialing, and every outgoing connection closed with a close frame, or dropped as a killed process would. */
    void stop(boolean politely) {
        running = false;
        for (OutgoingConnection connection : outgoingConnections()) {
            if (politely) {
                connection.close(WebSocket.NORMAL_CLOSURE, "node stopping");
            } else {
                connection.abort("node aborted");
            }
        }
    }

    // --- what the node asks -------------------------------------------------------------------

    List<String> connectedAddresses() {
        return underPeersLock(() -> List.copyOf(connectedAddresses.keySet()));
    }

    List<String> attemptingToConnectToAddress() {
        return underPeersLock(() -> List.copyOf(attemptingToConnectToAddress));
    }

    /** The HANDSHAKE's data: the addresses we are connected to, plus our own. */
    List<String> handshakeData() {
        List<String> data = new ArrayList<>(connectedAddresses());
        data.add(myAddress);
        return data;
    }

    /**
     * What a node of ours is told when it dials us, when it asks again, or when we refuse it:
     * every neighbour we know an address for, incoming ones too (they are often newer, and
     * less sought after, than the ones everybody dials), plus our own: peer exchange, as in
     * gossipsub v1.1's PRUNE. Curriculum nodes get the curriculum's {@link #handshakeData}.
     */
    List<String> peerExchangeData() {
        List<String> data = new ArrayList<>(connectedAddresses());
        incomingNeighbours().map(Neighbour::address)
                .filter(address -> address != null && !data.contains(address)).limit(config.maxAddressesPerHandshake())
                .forEach(data::add);
        data.add(myAddress);
        return data;
    }

    /** Every neighbour gossip goes to: each open outgoing connection, and each incoming one that said HANDSHAKE. */
    List<Neighbour> neighbours() {
        List<Neighbour> neighbours = new ArrayList<>();
        outgoingConnections().forEach(connection -> neighbours.add(connection.neighbour));
        incomingNeighbours().forEach(neighbours::add);
        return neighbours;
    }

    /** The connections peers opened to us that said HANDSHAKE (the others are clients). */
    private Stream<Neighbour> incomingNeighbours() {
        return incoming.values().stream().map(Incoming::neighbour).filter(Neighbour::isNeighbour);
    }

    List<OutgoingConnection> outgoingConnections() {
        return underPeersLock(() -> List.copyOf(connectedAddresses.values()));
    }

    /** The neighbour of a connection a peer opened, or null when it is not (or no longer) open. */
    Neighbour neighbourOf(IncomingConnection connection) {
        Incoming open = incoming.get(connection);
        return open == null ? null : open.neighbour();
    }

    // --- learning addresses, and dialing them -------------------------------------------------

    /** True when the address is already in the book, connected, being dialed, or a known peer: learning it costs nothing. */
    boolean isKnown(String address) {
        return book.contains(address) || knownPeerAddresses.contains(address)
                || underPeersLock(() -> connectedAddresses.containsKey(address) || attemptingToConnectToAddress.contains(address));
    }

    /** A peer that misbehaved: its address is not dialed for a while. */
    void backOff(String address) {
        book.backOff(address);
    }

    /** Addresses from a HANDSHAKE (normalized, allowed, not our own) go into the book; then free slots are filled. */
    void learned(List<String> addresses) {
        addresses.forEach(book::add);
        fill();   // a dry book is seen to on the heartbeat
    }

    /**
     * Dials addresses from the book, picked at random, until MAX_PEERS are connected or being
     * dialed. Returns true when the book ran dry: slots are free and nothing in it can fill them.
     */
    boolean fill() {
        if (!running) {
            return false;
        }
        int free;
        List<String> toDial = List.of();
        peersLock.lock();
        try {
            int learnedOpen = 0;
            for (String address : connectedAddresses.keySet()) {
                learnedOpen += knownPeerAddresses.contains(address) ? 0 : 1;
            }
            for (String address : attemptingToConnectToAddress) {
                learnedOpen += knownPeerAddresses.contains(address) ? 0 : 1;
            }
            free = config.maxPeers() - knownPeerAddresses.size() - learnedOpen;   // each known peer keeps its slot
            if (free > 0) {
                toDial = book.pick(free, address -> !knownPeerAddresses.contains(address)
                        && !connectedAddresses.containsKey(address) && !attemptingToConnectToAddress.contains(address));
                attemptingToConnectToAddress.addAll(toDial);
            }
        } finally {
            peersLock.unlock();
        }
        toDial.forEach(address -> dial(address, "the address book"));
        return toDial.size() < free;
    }

    /** Dials a curriculum node that dialed us, whatever the free slots: it hears nothing on the connection it opened. */
    void dialBack(String address) {
        if (running && startAttempt(address)) {
            dial(address, "its own HANDSHAKE (a curriculum node is dialed back)");
        }
    }

    /** True, and the address now in attemptingToConnectToAddress, when it is neither connected nor being dialed. */
    private boolean startAttempt(String address) {
        return underPeersLock(() -> !connectedAddresses.containsKey(address) && attemptingToConnectToAddress.add(address));
    }

    /**
     * Opens an outgoing connection. Its opening handshake carries our address in a
     * {@code Wirelab-Gossip} header, which tells a node of ours that we speak its gossip;
     * a curriculum node ignores the header.
     */
    private void dial(String address, String learnedFrom) {
        log.log(INFO, "connecting to " + address + " (from " + learnedFrom + ")");
        try {
            httpClient.newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(3))   // covers the opening handshake too: a hung peer fails here
                    .header(Neighbour.GOSSIP_HEADER, myAddress)
                    .buildAsync(URI.create(address), new OutgoingConnection(address, node, counts,
                            strangers.of(address, null), config.limits()))
                    .whenComplete((webSocket, error) -> {
                        if (error != null) {
                            couldNotConnect(address, OutgoingConnection.rootMessage(error));
                        }
                    });
        } catch (IllegalArgumentException | IllegalStateException e) {   // an address the client will not dial, or it stopped
            couldNotConnect(address, e.toString());
        }
    }

    private void couldNotConnect(String address, String why) {
        underPeersLock(() -> attemptingToConnectToAddress.remove(address));
        book.remove(address);
        log.log(INFO, "could not connect to " + address + ": " + why);
        retryIfKnownPeer(address);
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
            if (running && startAttempt(address)) {
                dial(address, "known-peers.json, again");
            }
        });
    }

    /** The outgoing connection opened: it joins connectedAddresses. Returns the HANDSHAKE's data for it. */
    List<String> connected(OutgoingConnection connection) {
        underPeersLock(() -> {
            connectedAddresses.put(connection.address, connection);
            return attemptingToConnectToAddress.remove(connection.address);
        });
        retryDelayMs.remove(connection.address);
        return handshakeData();
    }

    /** The outgoing connection closed or failed: it leaves connectedAddresses, and its slot is filled again. */
    boolean disconnected(OutgoingConnection connection) {
        if (!underPeersLock(() -> connectedAddresses.remove(connection.address, connection))) {
            return false;
        }
        book.backOff(connection.address);   // whether it refused us (1013), left, or broke the rules: not at once again
        retryIfKnownPeer(connection.address);
        fill();   // a dry book is seen to on the heartbeat
        return true;
    }

    // --- incoming connections -----------------------------------------------------------------

    /** A peer opened a WebSocket to us; it is a client until it says HANDSHAKE. */
    Neighbour opened(IncomingConnection connection) {
        String header = connection.request().header(Neighbour.GOSSIP_HEADER.toLowerCase(Locale.ROOT));
        String claimed = header.isEmpty() ? null : PeerAddresses.normalize(header);
        Outbox outbox = new Outbox(connection.toString(), connection::send,
                why -> connection.close(TRY_AGAIN_LATER, "dropped: " + why));
        Neighbour neighbour = new Neighbour("incoming " + connection, Neighbour.Direction.INCOMING, claimed,
                strangers.of(connection.remoteHost(), claimed), config.limits(),
                outbox::send, (code, reason) -> outbox.thenClose(() -> connection.close(code, reason)), counts);
        if (claimed != null) {
            neighbour.showedItSpeaksWirelab();
        }
        incoming.put(connection, new Incoming(neighbour, outbox));
        return neighbour;
    }

    /**
     * The incoming connection said HANDSHAKE: true when it is (now) a neighbour, false when we
     * have enough. A known peer is let in past MAX_INCOMING_PEERS, but only a connection from
     * its host (a header naming it is easy to forge from anywhere else), and only one at a time:
     * however many connections claim to be known peers, they add at most one neighbour each.
     */
    boolean handshook(Neighbour neighbour) {
        synchronized (incoming) {
            if (neighbour.isNeighbour()) {
                return true;
            }
            if (incomingNeighbours().count() >= config.maxIncomingPeers() && !isKnownPeerFromItsHost(neighbour)) {
                return false;
            }
            neighbour.handshook();
            if (neighbour.address() != null) {
                book.seenAlive(neighbour.address());
            }
            return true;
        }
    }

    /**
     * True when the neighbour names a known peer in its Wirelab-Gossip header, comes from that
     * peer's host, and no other incoming neighbour holds that address already. Asked only at
     * the limit, so the host check (which may look a name up) costs an ordinary connection nothing.
     */
    private boolean isKnownPeerFromItsHost(Neighbour neighbour) {
        String address = neighbour.address();
        if (address == null || !knownPeerAddresses.contains(address)
                || incomingNeighbours().anyMatch(other -> address.equals(other.address()))) {
            return false;
        }
        return incoming.entrySet().stream().filter(open -> open.getValue().neighbour() == neighbour)
                .anyMatch(open -> PeerAddresses.mayComeFrom(open.getKey().remoteHost(), address));
    }

    /** The incoming connection is gone: its outbox stops. Returns its neighbour, or null if it was never opened. */
    Neighbour closed(IncomingConnection connection) {
        Incoming gone = incoming.remove(connection);
        if (gone == null) {
            return null;
        }
        gone.outbox().stop();
        return gone.neighbour();
    }

    /** The incoming neighbours, by the address each gave, or host:port where it gave none: for /status. */
    List<String> incomingAddresses() {
        return incomingNeighbours()
                .map(n -> n.address() != null ? n.address() : n.peer).sorted().toList();
    }

    int addressBookSize() {
        return book.size();
    }

    private <T> T underPeersLock(Supplier<T> action) {
        peersLock.lock();
        try {
            return action.get();
        } finally {
            peersLock.unlock();
        }
    }
}
