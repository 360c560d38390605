package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.net.http.HttpClient;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import wirelab.Text;
import wirelab.websocket.CloseCode;
import wirelab.websocket.IncomingConnection;

/**
 * Who this node's neighbours are, in both directions, and what a HANDSHAKE changes.
 *
 * <ul>
 * <li>The connections it dials are {@link OutgoingPeers}': the curriculum's
 *     {@code connectedAddresses} and {@code attemptingToConnectToAddress}, the address book, the
 *     dials that fill free slots, and dial-backs.
 * <li>A connection a peer opens is a client until it says HANDSHAKE, which asks to make it a
 *     neighbour ({@link #receiveHandshake}). Incoming neighbours are capped at
 *     {@code MAX_INCOMING_PEERS}; when they are full, a stranger makes room by {@link Eviction}
 *     or is closed with 1013 "try again later", and its node dials someone else. A known peer
 *     that dials us from its own host is not refused (see {@link #admit}).
 * <li>Every HANDSHAKE teaches addresses: each one this node may dial (canonical, allowed, not its
 *     own) and new goes to the address book, within the source's rate of new addresses.
 * <li>Gossip goes to one connection per pair of nodes ({@link #neighbours}), and each pair's
 *     {@link Link} of the broadcast tree is kept here, shared by the pair's two connections.
 * </ul>
 */
final class Membership {

    private static final System.Logger log = System.getLogger("peer-node");

    private final NodeConfig config;
    private final String myAddress;
    private final MessageCounts counts;
    private final PeerAddresses addresses;
    private final Sources sources;
    private final OutgoingPeers outgoing;
    private final Map<IncomingConnection, Neighbour> incoming = new ConcurrentHashMap<>();
    /** A node of ours and we may hold two connections, one each way: they share one link of the tree (see neighbours()). */
    private final Map<String, Link> links = new ConcurrentHashMap<>();
    private final long evictionKey = new SecureRandom().nextLong();   // ranks address groups for Eviction, unknown to strangers

    /** {@code knownPeers} are normalized addresses, none of them this node's own. */
    Membership(NodeConfig config, String myAddress, List<String> knownPeers, PeerNode node, HttpClient httpClient,
               MessageCounts counts, PeerAddresses addresses, Sources sources) {
        this.config = config;
        this.myAddress = myAddress;
        this.counts = counts;
        this.addresses = addresses;
        this.sources = sources;
        this.outgoing = new OutgoingPeers(config, myAddress, knownPeers, node, httpClient, counts, sources,
                this::linkOf, this::forgetLinkUnlessOpen);
    }

    /** The connections this node dials: connectedAddresses, attemptingToConnectToAddress, the address book. */
    OutgoingPeers outgoing() {
        return outgoing;
    }

    // --- what the node asks -------------------------------------------------------------------

    /**
     * What a node of ours is told when it dials us, when it asks again, or when we refuse it:
     * every neighbour we know an address for, incoming ones too (they are often newer, and
     * less sought after, than the ones everybody dials), plus our own: peer exchange, as in
     * gossipsub v1.1's PRUNE. An incoming neighbour's address is one it claimed, and was
     * checked as a HANDSHAKE's address is before it is repeated ({@link #opened}). Curriculum
     * nodes get the curriculum's {@link OutgoingPeers#handshakeData}.
     */
    List<String> peerExchangeData() {
        List<String> data = new ArrayList<>(outgoing.connectedAddresses());
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
     * other stays open, quiet, until the first one closes. The two share one {@link Link},
     * so the link's state is the same whichever carries it. A claimed address pairs only when
     * the connection comes from that address's host.
     */
    List<Neighbour> neighbours() {
        List<OutgoingConnection> dialedConnections = outgoing.connections();
        Set<String> dialed = new HashSet<>();
        dialedConnections.forEach(connection -> dialed.add(connection.address));
        Set<String> pairs = new HashSet<>();   // addresses we dialed that also dialed us
        List<Neighbour> incomingOnes = new ArrayList<>();
        incoming.forEach((connection, neighbour) -> {
            if (neighbour.isAdmitted()) {
                incomingOnes.add(neighbour);
                String address = neighbour.address();
                if (address != null && dialed.contains(address) && neighbour.link == links.get(address)) {   // paired in opened()
                    pairs.add(address);
                }
            }
        });
        List<Neighbour> neighbours = new ArrayList<>();
        for (OutgoingConnection connection : dialedConnections) {
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
        return outgoing.isKnownPeer(neighbour.address());
    }

    /** The connections peers opened to us that its HANDSHAKE admitted (the others are clients). */
    private Stream<Neighbour> incomingNeighbours() {
        return incoming.values().stream().filter(Neighbour::isAdmitted);
    }

    /** The neighbour of a connection a peer opened, or null when it is not (or no longer) open. */
    Neighbour neighbourOf(IncomingConnection connection) {
        return incoming.get(connection);
    }

    /** The incoming neighbours, by the address each gave, or host:port where it gave none: for /status. */
    List<String> incomingAddresses() {
        return incomingNeighbours().map(n -> n.address() != null ? n.address() : n.peer).sorted().toList();
    }

    /**
     * Drops every connection whose writes have been blocked past SEND_TIMEOUT_MS: its peer
     * stopped reading, and its TCP window stays shut. Called on the node's heartbeat.
     */
    void dropStalled() {
        int timeoutMs = config.limits().sendTimeoutMs();
        for (OutgoingConnection connection : outgoing.connections()) {
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

    // --- incoming connections -----------------------------------------------------------------

    /**
     * A peer opened a WebSocket to us; it is a client until it says HANDSHAKE. A node of ours
     * names its address in the {@code Wirelab-Gossip} header; that claim is kept (and later
     * repeated to others in peer exchange) only if it is an address this node would dial from
     * a stranger's HANDSHAKE.
     */
    Neighbour opened(IncomingConnection connection) {
        String header = connection.request().header(Neighbour.GOSSIP_HEADER.toLowerCase(Locale.ROOT));
        String claimed = header.isEmpty() ? null : WsAddress.normalize(header);
        if (claimed != null && (addresses.isOwn(claimed) || addresses.dialProblem(claimed, true) != null)) {
            claimed = null;
        }
        Sources.Source source = sources.of(connection.remoteHost(), claimed);
        Outbox outbox = new Outbox(connection.toString(), connection::send, config.limits().maxSendQueueBytes(), why -> {
            source.log.log(log, WARNING, "dropped " + connection + ": " + why);
            connection.abort();
        });
        String paired = claimed != null && PeerAddresses.mayComeFrom(connection.remoteHost(), claimed) ? claimed : null;
        Neighbour neighbour = new Neighbour("incoming " + connection, Neighbour.Direction.INCOMING, claimed,
                paired != null ? linkOf(paired) : new Link(), source, config.limits(), outbox,
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
     * A HANDSHAKE from {@code from}, its addresses as listed ({@code null} where an entry was not
     * a string); the last is the sender's own. What it teaches goes to the address book, and
     * the first one on a connection a peer opened asks to make it a neighbour ({@link #admitByHandshake}).
     * Returns true when a node of ours has just become a neighbour: catch-up and the tree start on it.
     */
    boolean receiveHandshake(Neighbour from, List<String> listed) {
        List<String> usable = new ArrayList<>();
        for (String raw : listed) {
            usable.add(raw == null ? null : usableAddress(raw, from));   // keeps the last entry last
        }
        boolean joined = admitByHandshake(from, usable.isEmpty() ? null : usable.get(usable.size() - 1));
        if (!joined && !from.isAdmitted()) {
            return false;   // refused: nothing learned from a peer we do not take
        }
        List<String> learned = new ArrayList<>();
        int overRate = 0;
        for (String address : usable) {
            if (address == null || outgoing.isKnown(address)) {
                continue;
            }
            if (!from.source.addresses.tryTake(1)) {   // a stranger's addresses are dials we would make for it
                overRate++;
                continue;
            }
            learned.add(address);
        }
        if (overRate > 0) {
            from.refused(Refusal.ADDRESSES_PAST_RATE);
            from.log(INFO, "HANDSHAKE from " + from + ": left " + overRate + " new addresses unlearned: more than "
                    + Sources.ADDRESS_BURST + " from one source, or one per " + (int) (1 / Sources.ADDRESSES_PER_SECOND) + " s");
        }
        outgoing.learned(learned);
        return joined;
    }

    /**
     * The address in canonical form when this node may dial it; null (logged where it is wrong,
     * within the source's quota) when not. A stranger's address may never be on a bad port.
     */
    private String usableAddress(String rawAddress, Neighbour from) {
        String address = WsAddress.normalize(rawAddress);
        if (address != null && addresses.isOwn(address)) {
            return null;
        }
        PeerAddresses.DialProblem problem = address == null
                ? new PeerAddresses.DialProblem(Refusal.ADDRESS_NOT_ALLOWED, "expected ws://host:port")
                : addresses.dialProblem(address, true);
        if (problem == null) {
            return address;
        }
        from.refused(problem.refusal());
        from.log(WARNING, "will not dial " + Text.abbreviate(rawAddress) + " from HANDSHAKE from " + from + ": " + problem.why());
        return null;
    }

    /**
     * The first HANDSHAKE on a connection a peer opened asks to make it a neighbour; {@code itself}
     * is the address it gave for itself, usable, or null. A node of ours is answered with our
     * own HANDSHAKE (peer exchange, so it learns where else to go even when refused); a
     * curriculum node is dialed back. A later HANDSHAKE from a node of ours asks for addresses
     * again. Returns true when a node of ours has just become a neighbour.
     */
    private boolean admitByHandshake(Neighbour from, String itself) {
        if (from.direction != Neighbour.Direction.INCOMING) {
            return false;
        }
        if (from.isAdmitted()) {
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
            from.close(CloseCode.TRY_AGAIN_LATER, "this node has " + config.maxIncomingPeers() + " incoming neighbours, its limit; try another");
            return false;
        }
        if (from.speaksWirelab()) {
            from.mayAnswerHandshake();
            from.sendHandshake(peerExchangeData());
            return true;
        }
        if (itself != null) {
            outgoing.dialBack(itself, from);
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
            neighbour.admitted();
            if (neighbour.address() != null) {
                outgoing.seenAlive(neighbour.address());
            }
            return true;
        }
    }

    /** Every incoming slot is taken: evicts the stranger {@link Eviction} chooses, if any; true when one made room. */
    private boolean evictOneFor(Neighbour newcomer) {
        List<Eviction.Candidate> candidates = new ArrayList<>();
        incoming.forEach((connection, neighbour) -> {
            if (neighbour.isAdmitted() && !outgoing.isKnownPeer(neighbour.address())) {
                candidates.add(new Eviction.Candidate(neighbour, PeerAddresses.addressGroup(connection.remoteHost(),
                        neighbour.address()), neighbour.openedNanos, neighbour.lastNewTransactionNanos()));
            }
        });
        Neighbour evicted = Eviction.choose(candidates, evictionKey);
        if (evicted == null) {
            return false;
        }
        evicted.evicted();
        evicted.refused(Refusal.EVICTED);
        evicted.log(INFO, "evicted " + evicted + " to make room for " + newcomer + " (MAX_INCOMING_PEERS)");
        evicted.close(CloseCode.TRY_AGAIN_LATER, "evicted to make room for a newcomer; try another");
        return true;
    }

    /**
     * True when the neighbour names a known peer in its Wirelab-Gossip header, comes from that
     * peer's host, and no other incoming neighbour holds that address already. Asked only at
     * the limit, so the host check (which may look a name up) costs an ordinary connection nothing.
     */
    private boolean isKnownPeerFromItsHost(Neighbour neighbour) {
        String address = neighbour.address();
        if (!outgoing.isKnownPeer(address)
                || incomingNeighbours().anyMatch(other -> address.equals(other.address()))) {
            return false;
        }
        return incoming.entrySet().stream().filter(open -> open.getValue() == neighbour)
                .anyMatch(open -> PeerAddresses.mayComeFrom(open.getKey().remoteHost(), address));
    }

    /** The incoming connection is gone: its outbox stops, and a dial-back that answered it is closed. Returns its neighbour, or null. */
    Neighbour closed(IncomingConnection connection) {
        Neighbour gone = incoming.remove(connection);
        if (gone == null) {
            return null;
        }
        gone.stopSending();
        forgetLinkUnlessOpen(gone.address());
        outgoing.closeDialBacksFor(gone);
        return gone;
    }

    /** The tree's link to the node at {@code address}: one for both connections of a pair, until both have closed. */
    private Link linkOf(String address) {
        return links.computeIfAbsent(address, a -> new Link());
    }

    /** A connection to {@code address} closed: the link goes too when no other connection with that node is open. */
    private void forgetLinkUnlessOpen(String address) {
        if (address != null && !outgoing.isConnected(address)
                && incoming.values().stream().noneMatch(n -> address.equals(n.address()))) {
            links.remove(address);
        }
    }
}
