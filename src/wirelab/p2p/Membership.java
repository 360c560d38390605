package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.security.SecureRandom;
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

import wirelab.Text;
import wirelab.websocket.IncomingConnection;

/**
 * Who this node is connected to, and whom it dials next: its neighbours, in both directions.
 *
 * <ul>
 * <li>As in the curriculum, {@code connectedAddresses} holds the servers this node has an open
 *     outgoing connection to, and {@code attemptingToConnectToAddress} the ones it is dialing,
 *     so it never dials one twice. Every attempt starts through the {@link Dialer}, one at a
 *     time, at most one each {@code DIAL_INTERVAL_MS}.
 * <li>It dials at most {@code MAX_PEERS}. The addresses it learns from HANDSHAKEs go into its
 *     {@link AddressBook}; whenever a slot is free (at start, after a HANDSHAKE, when a
 *     neighbour is lost, and every second) it dials addresses picked from the book at random.
 *     A network of up to MAX_PEERS + 1 nodes is still the curriculum's full mesh.
 * <li>Known peers ({@code known-peers.json}) are the way into the network, so each keeps a slot
 *     of its own that learned addresses never take, and one that cannot be reached, refuses us
 *     or drops is tried again after 1 s, then 2, 4, up to 10 s, for as long as the node runs.
 * <li>A connection a peer opens is a client until it says HANDSHAKE, which asks to make it a
 *     neighbour ({@link #handshake}). Incoming neighbours are capped at
 *     {@code MAX_INCOMING_PEERS}; when they are full, a stranger makes room by {@link Eviction}
 *     or is closed with 1013 "try again later", and its node dials someone else. A known peer
 *     that dials us from its own host is not refused (see {@link #admit}).
 * <li>A curriculum node that dials us hears nothing on that connection (it only listens on
 *     connections dialed to it), so we dial it back, in a free slot or beyond MAX_PEERS; but at
 *     most {@code MAX_DIAL_BACKS} at once, each paid from its source's address budget, and each
 *     closed when the connection it answers ends.
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
    private final PeerAddresses addresses;
    private final Strangers strangers;
    private final AddressBook book = new AddressBook();
    private final Dialer dialer;

    // The curriculum's two collections, guarded by peersLock so that "not connected and not
    // attempting" and "now attempting" happen as one step; dialBacks under it too.
    private final Map<String, OutgoingConnection> connectedAddresses = new LinkedHashMap<>();
    private final Set<String> attemptingToConnectToAddress = new HashSet<>();
    private final Map<String, Neighbour> dialBacks = new LinkedHashMap<>();   // address dialed back -> the connection it answers
    private final ReentrantLock peersLock = new ReentrantLock();
    private final Map<IncomingConnection, Neighbour> incoming = new ConcurrentHashMap<>();
    /** A node of ours and we may hold two connections, one each way: they share one link of the tree (see neighbours()). */
    private final Map<String, BroadcastTree.Link> links = new ConcurrentHashMap<>();

    private final Set<String> knownPeerAddresses = new LinkedHashSet<>();
    private final Map<String, Long> retryDelayMs = new ConcurrentHashMap<>();
    private final long evictionKey = new SecureRandom().nextLong();   // ranks address groups for Eviction, unknown to strangers
    private volatile boolean running = true;

    /** {@code knownPeers} are normalized addresses, none of them this node's own. */
    Membership(NodeConfig config, String myAddress, List<String> knownPeers, PeerNode node, HttpClient httpClient,
               MessageCounts counts, PeerAddresses addresses, Strangers strangers) {
        this.config = config;
        this.myAddress = myAddress;
        this.node = node;
        this.httpClient = httpClient;
        this.counts = counts;
        this.addresses = addresses;
        this.strangers = strangers;
        this.dialer = new Dialer(config.limits().dialIntervalMs(), this::open);
        knownPeers.stream().limit(config.maxPeers()).forEach(knownPeerAddresses::add);
    }

    /** Dials every known peer; called once, when the node is whole. */
    void start() {
        for (String address : knownPeerAddresses) {
            if (startAttempt(address)) {
                dialer.dial(address, "known-peers.json");
            }
        }
    }

    /** No more dialing, and every outgoing connection closed with a close frame, or dropped as a killed process would. */
    void stop(boolean politely) {
        running = false;
        dialer.stop();
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
     * gossipsub v1.1's PRUNE. An incoming neighbour's address is one it claimed, and was
     * checked as a HANDSHAKE's address is before it is repeated ({@link #opened}). Curriculum
     * nodes get the curriculum's {@link #handshakeData}.
     */
    List<String> peerExchangeData() {
        List<String> data = new ArrayList<>(connectedAddresses());
        incomingNeighbours().map(Neighbour::address)
                .filter(address -> address != null && !data.contains(address)).limit(config.maxAddressesPerHandshake())
                .forEach(data::add);
        data.add(myAddress);
        return data;
    }

    /**
     * Every neighbour gossip goes to: each open outgoing connection, and each incoming one that
     * said HANDSHAKE; but one link per pair of nodes. Two nodes of ours that dialed each other
     * hold two connections (the curriculum's full mesh wants both in connectedAddresses), and
     * gossip on both would send every IHAVE twice and close a cycle in the tree. So gossip takes
     * the one dialed by the node whose address sorts first; both ends pick the same one, and the
     * other stays open, quiet, until the first one closes. The two share one {@link BroadcastTree.Link},
     * so the link's state is the same whichever carries it. A claimed address pairs only when
     * the connection comes from that address's host.
     */
    List<Neighbour> neighbours() {
        List<OutgoingConnection> outgoing = outgoingConnections();
        Set<String> dialed = new HashSet<>();
        outgoing.forEach(connection -> dialed.add(connection.address));
        Set<String> pairs = new HashSet<>();   // addresses we dialed that also dialed us
        List<Neighbour> incomingOnes = new ArrayList<>();
        incoming.forEach((connection, neighbour) -> {
            if (neighbour.isNeighbour()) {
                incomingOnes.add(neighbour);
                String address = neighbour.address();
                if (address != null && dialed.contains(address) && neighbour.link == links.get(address)) {   // paired in opened()
                    pairs.add(address);
                }
            }
        });
        List<Neighbour> neighbours = new ArrayList<>();
        for (OutgoingConnection connection : outgoing) {
            if (!pairs.contains(connection.address) || myAddress.compareTo(connection.address) < 0) {
                neighbours.add(connection.neighbour());   // ours, unless the peer sorts first: then its connection carries the gossip
            }
        }
        for (Neighbour neighbour : incomingOnes) {
            if (!pairs.contains(neighbour.address()) || neighbour.address().compareTo(myAddress) < 0) {
                neighbours.add(neighbour);
            }
        }
        return neighbours;
    }

    /** True when the neighbour is a known peer (known-peers.json): the way into the network, which the tree grafts first. */
    boolean isKnownPeer(Neighbour neighbour) {
        return neighbour.address() != null && knownPeerAddresses.contains(neighbour.address());
    }

    /** The connections peers opened to us that said HANDSHAKE (the others are clients). */
    private Stream<Neighbour> incomingNeighbours() {
        return incoming.values().stream().filter(Neighbour::isNeighbour);
    }

    List<OutgoingConnection> outgoingConnections() {
        return underPeersLock(() -> List.copyOf(connectedAddresses.values()));
    }

    /** The neighbour of a connection a peer opened, or null when it is not (or no longer) open. */
    Neighbour neighbourOf(IncomingConnection connection) {
        return incoming.get(connection);
    }

    /** The incoming neighbours, by the address each gave, or host:port where it gave none: for /status. */
    List<String> incomingAddresses() {
        return incomingNeighbours().map(n -> n.address() != null ? n.address() : n.peer).sorted().toList();
    }

    int addressBookSize() {
        return book.size();
    }

    /**
     * Drops every connection whose writes have been blocked past SEND_TIMEOUT_MS: its peer
     * stopped reading, and its TCP window stays shut. Called on the node's heartbeat.
     */
    void dropStalled() {
        int timeoutMs = config.limits().sendTimeoutMs();
        for (OutgoingConnection connection : outgoingConnections()) {
            if (connection.neighbour().stalledMs() > timeoutMs) {
                connection.neighbour().refused(Refusal.SEND_STALLED);
                connection.abort("a write blocked for more than " + timeoutMs + " ms (SEND_TIMEOUT_MS)");   // stops its outbox
            }
        }
        incoming.forEach((connection, neighbour) -> {
            if (neighbour.stalledMs() > timeoutMs) {
                neighbour.refused(Refusal.SEND_STALLED);
                neighbour.log(WARNING, "dropped " + neighbour + ": a write blocked for more than " + timeoutMs
                        + " ms (SEND_TIMEOUT_MS); it stopped reading");
                neighbour.stopSending();
                connection.abort();
            }
        });
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
     * dialed (a dial-back takes a slot too, when one is free). Returns true when the book ran
     * dry: slots are free and nothing in it can fill them.
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
        toDial.forEach(address -> dialer.dial(address, "the address book"));
        return toDial.size() < free;
    }

    /** True, and the address now in attemptingToConnectToAddress, when it is neither connected nor being dialed. */
    private boolean startAttempt(String address) {
        return underPeersLock(() -> !connectedAddresses.containsKey(address) && attemptingToConnectToAddress.add(address));
    }

    /**
     * Opens an outgoing connection, on the dialer's thread. Its opening handshake carries our
     * address in a {@code Wirelab-Gossip} header, which tells a node of ours that we speak its
     * gossip; a curriculum node ignores the header.
     */
    private void open(String address, String learnedFrom) {
        if (!running) {
            return;
        }
        log.log(INFO, "connecting to " + address + " (from " + learnedFrom + ")");
        try {
            httpClient.newWebSocketBuilder()
                    .connectTimeout(Duration.ofSeconds(3))   // covers the opening handshake too: a hung peer fails here
                    .header(Neighbour.GOSSIP_HEADER, myAddress)
                    .buildAsync(URI.create(address), new OutgoingConnection(address, node, counts,
                            strangers.of(address, null), config.limits(), linkOf(address)))
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
        underPeersLock(() -> {
            dialBacks.remove(address);
            return attemptingToConnectToAddress.remove(address);
        });
        forgetLinkUnlessOpen(address);
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
                dialer.dial(address, "known-peers.json, again");
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
        boolean removed = underPeersLock(() -> {
            if (!connectedAddresses.remove(connection.address, connection)) {
                return false;
            }
            dialBacks.remove(connection.address);
            return true;
        });
        if (!removed) {
            return false;
        }
        forgetLinkUnlessOpen(connection.address);
        book.lost(connection.address);   // whether it refused us (1013), left, or broke the rules: not at once again
        retryIfKnownPeer(connection.address);
        fill();   // a dry book is seen to on the heartbeat
        return true;
    }

    // --- incoming connections -----------------------------------------------------------------

    /**
     * A peer opened a WebSocket to us; it is a client until it says HANDSHAKE. A node of ours
     * names its address in the {@code Wirelab-Gossip} header; that claim is kept (and later
     * repeated to others in peer exchange) only if it is an address this node would dial from
     * a stranger's HANDSHAKE.
     */
    Neighbour opened(IncomingConnection connection) {
        String header = connection.request().header(Neighbour.GOSSIP_HEADER.toLowerCase(Locale.ROOT));
        String claimed = header.isEmpty() ? null : PeerAddresses.normalize(header);
        if (claimed != null && (addresses.isOwn(claimed) || addresses.dialProblem(claimed, true) != null)) {
            claimed = null;
        }
        Strangers.Source source = strangers.of(connection.remoteHost(), claimed);
        Outbox outbox = new Outbox(connection.toString(), connection::send, config.limits().maxSendQueueBytes(), why -> {
            source.log.log(log, WARNING, "dropped " + connection + ": " + why);
            connection.abort();
        });
        String paired = claimed != null && PeerAddresses.mayComeFrom(connection.remoteHost(), claimed) ? claimed : null;
        Neighbour neighbour = new Neighbour("incoming " + connection, Neighbour.Direction.INCOMING, claimed,
                paired != null ? linkOf(paired) : new BroadcastTree.Link(), source, config.limits(), outbox,
                (code, reason) -> outbox.thenClose(() -> connection.close(code, reason)), connection::ping, counts);
        if (!header.isEmpty()) {
            neighbour.showedItSpeaksWirelab();
            if (claimed == null) {
                neighbour.refused(Refusal.CLAIMED_ADDRESS);
                neighbour.log(INFO, connection + " claims " + Text.abbreviate(header) + " in Wirelab-Gossip: not an address "
                        + "this node would dial; it is taken as a node of ours without a known address");
            }
        }
        incoming.put(connection, neighbour);
        return neighbour;
    }

    /**
     * A HANDSHAKE came from {@code from}; {@code itself} is the last address it named, usable,
     * or null. The first one on a connection a peer opened asks to make it a neighbour: a node
     * of ours is answered with our own HANDSHAKE (peer exchange, so it learns where else to go
     * even when refused); a curriculum node is dialed back. Returns true when a node of ours
     * has just become a neighbour: catch-up should start.
     */
    boolean handshake(Neighbour from, String itself) {
        if (from.direction != Neighbour.Direction.INCOMING) {
            return false;
        }
        if (from.isNeighbour()) {
            if (from.speaksWirelab() && from.mayAnswerHandshake()) {
                from.sendHandshake(peerExchangeData());   // a node of ours whose address book ran dry asks again
            }
            return false;
        }
        if (!admit(from)) {
            from.refused(Refusal.INCOMING_FULL);
            from.log(INFO, "refused " + from + " as a neighbour: already " + config.maxIncomingPeers()
                    + " incoming (MAX_INCOMING_PEERS), none of them evictable");
            if (from.speaksWirelab()) {
                from.sendHandshake(peerExchangeData());
            }
            from.close(TRY_AGAIN_LATER, "this node has " + config.maxIncomingPeers() + " incoming neighbours, its limit; try another");
            return false;
        }
        if (from.speaksWirelab()) {
            from.mayAnswerHandshake();
            from.sendHandshake(peerExchangeData());
            return true;
        }
        if (itself != null) {
            dialBack(itself, from);
        }
        return false;
    }

    /**
     * Makes the incoming connection a neighbour: true when it is one now, false when we have
     * enough and none can be evicted. A known peer is let in past MAX_INCOMING_PEERS, but only
     * a connection from its host (a header naming it is easy to forge from anywhere else), and
     * only one at a time: however many connections claim to be known peers, they add at most
     * one neighbour each.
     */
    private boolean admit(Neighbour neighbour) {
        synchronized (incoming) {
            if (incomingNeighbours().count() >= config.maxIncomingPeers() && !isKnownPeerFromItsHost(neighbour)
                    && !evictOneFor(neighbour)) {
                return false;
            }
            neighbour.handshook();
            if (neighbour.address() != null) {
                book.seenAlive(neighbour.address());
            }
            return true;
        }
    }

    /** Every incoming slot is taken: evicts the stranger {@link Eviction} chooses, if any; true when one made room. */
    private boolean evictOneFor(Neighbour newcomer) {
        List<Eviction.Candidate> candidates = new ArrayList<>();
        incoming.forEach((connection, neighbour) -> {
            if (neighbour.isNeighbour() && !knownPeerAddresses.contains(neighbour.address())) {
                candidates.add(new Eviction.Candidate(neighbour, PeerAddresses.addressGroup(connection.remoteHost(),
                        neighbour.address()), neighbour.openedNanos, neighbour.lastNewTransactionNanos()));
            }
        });
        Neighbour evicted = Eviction.choose(candidates, evictionKey);
        if (evicted == null) {
            return false;
        }
        evicted.unhandshook();
        evicted.refused(Refusal.EVICTED);
        evicted.log(INFO, "evicted " + evicted + " to make room for " + newcomer + " (MAX_INCOMING_PEERS)");
        evicted.close(TRY_AGAIN_LATER, "evicted to make room for a newcomer; try another");
        return true;
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
        return incoming.entrySet().stream().filter(open -> open.getValue() == neighbour)
                .anyMatch(open -> PeerAddresses.mayComeFrom(open.getKey().remoteHost(), address));
    }

    /**
     * Dials a curriculum node back, whatever the free slots: it hears nothing on the connection
     * it opened. At most MAX_DIAL_BACKS at once, each paid from the source's address budget.
     */
    private void dialBack(String address, Neighbour asker) {
        String refused = underPeersLock(() -> {
            if (!running || connectedAddresses.containsKey(address) || attemptingToConnectToAddress.contains(address)) {
                return "";
            }
            if (dialBacks.size() >= config.limits().maxDialBacks()) {
                asker.refused(Refusal.DIAL_BACK_PAST_CAP);
                return "already " + dialBacks.size() + " dial-backs (MAX_DIAL_BACKS)";
            }
            if (!asker.source.addresses.tryTake(1)) {
                asker.refused(Refusal.ADDRESSES_PAST_RATE);
                return "its source asked for more dials than its rate allows";
            }
            dialBacks.put(address, asker);
            attemptingToConnectToAddress.add(address);
            return null;
        });
        if (refused == null) {
            dialer.dial(address, "its own HANDSHAKE (a curriculum node is dialed back)");
        } else if (!refused.isEmpty()) {
            asker.log(INFO, "will not dial " + address + " back for " + asker + ": " + refused);
        }
    }

    /** The incoming connection is gone: its outbox stops, and a dial-back that answered it is closed. Returns its neighbour, or null. */
    Neighbour closed(IncomingConnection connection) {
        Neighbour gone = incoming.remove(connection);
        if (gone == null) {
            return null;
        }
        gone.stopSending();
        forgetLinkUnlessOpen(gone.address());
        List<OutgoingConnection> answered = underPeersLock(() -> {
            List<OutgoingConnection> list = new ArrayList<>();
            dialBacks.entrySet().removeIf(each -> {
                if (each.getValue() != gone) {
                    return false;
                }
                OutgoingConnection open = connectedAddresses.get(each.getKey());
                if (open != null) {
                    list.add(open);
                }
                return true;
            });
            return list;
        });
        answered.forEach(dialBack -> dialBack.close(WebSocket.NORMAL_CLOSURE, "the connection this answered has ended"));
        return gone;
    }

    /** The tree's link to the node at {@code address}: one for both connections of a pair, until both have closed. */
    private BroadcastTree.Link linkOf(String address) {
        return links.computeIfAbsent(address, a -> new BroadcastTree.Link());
    }

    /** A connection to {@code address} closed: the link goes too when no other connection with that node is open. */
    private void forgetLinkUnlessOpen(String address) {
        if (address != null && !underPeersLock(() -> connectedAddresses.containsKey(address))
                && incoming.values().stream().noneMatch(n -> address.equals(n.address()))) {
            links.remove(address);
        }
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
