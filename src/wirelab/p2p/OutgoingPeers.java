package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

import wirelab.websocket.CloseCode;

/**
 * The connections this node dials, and whom it dials next: the outgoing half of
 * {@link Membership}.
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
 * <li>A curriculum node that dials us hears nothing on that connection (it only listens on
 *     connections dialed to it), so we dial it back ({@link #dialBack}), in a free slot or
 *     beyond MAX_PEERS; but at most {@code MAX_DIAL_BACKS} at once, each paid from its source's
 *     address budget, and each closed when the connection it answers ends.
 * </ul>
 */
final class OutgoingPeers {

    private static final System.Logger log = System.getLogger("peer-node");

    private final NodeConfig config;
    private final String myAddress;
    private final PeerNode node;
    private final HttpClient httpClient;
    private final MessageCounts counts;
    private final Sources sources;
    private final Function<String, Link> linkOf;
    private final Consumer<String> connectionGone;
    private final AddressBook book = new AddressBook();
    private final Dialer dialer;

    // The curriculum's two collections, guarded by peersLock so that "not connected and not
    // attempting" and "now attempting" happen as one step; dialBacks under it too.
    private final Map<String, OutgoingConnection> connectedAddresses = new LinkedHashMap<>();
    private final Set<String> attemptingToConnectToAddress = new HashSet<>();
    private final Map<String, Neighbour> dialBacks = new LinkedHashMap<>();   // address dialed back -> the connection it answers
    private final ReentrantLock peersLock = new ReentrantLock();

    private final Set<String> knownPeerAddresses = new LinkedHashSet<>();
    private final Map<String, Long> retryDelayMs = new ConcurrentHashMap<>();
    private volatile boolean running = true;

    /**
     * {@code knownPeers} are normalized addresses, none of them this node's own. {@code linkOf}
     * gives the tree's link to an address; {@code connectionGone} is told when a connection
     * to one closed or could not open.
     */
    OutgoingPeers(NodeConfig config, String myAddress, List<String> knownPeers, PeerNode node, HttpClient httpClient,
                  MessageCounts counts, Sources sources, Function<String, Link> linkOf, Consumer<String> connectionGone) {
        this.config = config;
        this.myAddress = myAddress;
        this.node = node;
        this.httpClient = httpClient;
        this.counts = counts;
        this.sources = sources;
        this.linkOf = linkOf;
        this.connectionGone = connectionGone;
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
        for (OutgoingConnection connection : connections()) {
            if (politely) {
                connection.close(CloseCode.NORMAL_CLOSURE, "node stopping");
            } else {
                connection.abort("node aborted");
            }
        }
    }

    List<String> connectedAddresses() {
        return underPeersLock(() -> List.copyOf(connectedAddresses.keySet()));
    }

    List<String> attemptingToConnectToAddress() {
        return underPeersLock(() -> List.copyOf(attemptingToConnectToAddress));
    }

    /** The open outgoing connections. */
    List<OutgoingConnection> connections() {
        return underPeersLock(() -> List.copyOf(connectedAddresses.values()));
    }

    boolean isConnected(String address) {
        return underPeersLock(() -> connectedAddresses.containsKey(address));
    }

    /** True when the address is a known peer (known-peers.json). */
    boolean isKnownPeer(String address) {
        return address != null && knownPeerAddresses.contains(address);
    }

    int addressBookSize() {
        return book.size();
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

    /** The node at this address dialed us: it is alive, and its back-off (if any) ends. */
    void seenAlive(String address) {
        book.seenAlive(address);
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
                            sources.of(address, null), config.limits(), linkOf.apply(address)))
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
        connectionGone.accept(address);
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

    /** The HANDSHAKE's data for a curriculum node: the addresses we are connected to, plus our own. */
    List<String> handshakeData() {
        List<String> data = new ArrayList<>(connectedAddresses());
        data.add(myAddress);
        return data;
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
        connectionGone.accept(connection.address);
        book.lost(connection.address);   // whether it refused us (1013), left, or broke the rules: not at once again
        retryIfKnownPeer(connection.address);
        fill();   // a dry book is seen to on the heartbeat
        return true;
    }

    // --- dial-backs ------------------------------------------------------------------------------

    /**
     * Dials a curriculum node back, whatever the free slots: it hears nothing on the connection
     * it opened. At most MAX_DIAL_BACKS at once, each paid from the source's address budget.
     */
    void dialBack(String address, Neighbour asker) {
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

    /** The incoming connection {@code gone} answered has ended: the dial-backs made for it are closed. */
    void closeDialBacksFor(Neighbour gone) {
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
        answered.forEach(dialBack -> dialBack.close(CloseCode.NORMAL_CLOSURE, "the connection this answered has ended"));
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
