package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import wirelab.p2p.Message.Type;

/**
 * How a transaction reaches every node at close to one copy each, quickly over slow links:
 * Plumtree's eager and lazy push (Leitão, Pereira, Rodrigues, SRDS 2007), between nodes that
 * speak it. The curriculum's flooding sends each transaction over every connection, so a node
 * with d neighbours receives d copies of it. Here every link between two of our nodes is either
 * <em>eager</em>, part of a spanning tree, and carries whole TRANSACTIONs, or <em>lazy</em>, and
 * carries only ids, now and then:
 *
 * <pre>
 *  A stores a new transaction:   TRANSACTION (as checked) -> every eager neighbour and every curriculum one
 *  once a second:                IHAVE {"ids": [...]}     -> the D_LAZY lazy neighbours told longest ago: the
 *                                                            ids stored lately, each once a link
 *  B receives a second copy:     PRUNE {}                 -> the one that sent it: the link turns lazy, both ends
 *  C has an IHAVE and, a round   GRAFT {"ids": [...]}     -> the announcer: the link turns eager, and the
 *    trip or so later, still no transaction                  announcer sends the transactions
 *  D has no eager link:          GRAFT {"ids": []}        -> one neighbour (a known peer, else the nearest):
 *                                                            the link turns eager, nothing more
 * </pre>
 *
 * Links start lazy, and a node with no eager link grafts one, its way into the network (so the
 * first transactions after a mesh forms do not flood every link): in a network where every node
 * knows node-1, the tree starts as a star around it, two hops deep. Where that leaves a part
 * of the network out of the tree, the part misses a transaction, hears of it in an IHAVE, and
 * GRAFTs its way in; a duplicate closes a cycle and prunes it. Timeouts follow each link's
 * round-trip time, measured with WebSocket pings ({@link Link#rttSample}): a GRAFT waits one
 * and a half round trips past the IHAVE, so a copy that is merely on its way over a slow link
 * is not asked for twice. IHAVEs go only where they can help: to a few lazy links a round,
 * taking turns, so that each hears of every id (a node the tree missed is told by every lazy
 * neighbour it has, not by luck); never back to the neighbour a transaction came from, and
 * never twice for one id on a link.
 * Catch-up ({@link CatchUp}) on a timer is the last resort.
 *
 * <p>Bounded against a peer that misbehaves: an IHAVE or GRAFT lists at most
 * {@link Message#MAX_TREE_IDS} ids; at most {@link #MAX_MISSING} announced ids are awaited at
 * once; a GRAFT fetches only ids we announced on that link, each once.
 */
final class BroadcastTree {

    private static final System.Logger log = System.getLogger("peer-node");

    /** How often IHAVEs go out: gossipsub's heartbeat. */
    static final long IHAVE_INTERVAL_MS = 1_000;
    /** Lazy neighbours sent an IHAVE each round (gossipsub's D_lazy): a node off the tree hears within a second or so. */
    static final int D_LAZY = 3;
    /**
     * An id is offered in the IHAVEs of this many rounds after it is stored (gossipsub's
     * history_gossip): every lazy link of a node at the default limits (MAX_PEERS +
     * MAX_INCOMING_PEERS = 40) takes its turn within them, D_LAZY a round.
     */
    static final int ANNOUNCE_ROUNDS = 14;
    /**
     * The GRAFT timeout until a link's round trip is measured, and its bounds after. At least a
     * second, an IHAVE round: a copy that is only late (a busy node, a burst) costs nothing if
     * it is awaited, while a GRAFT for it adds an eager link and the duplicates that prune it.
     */
    static final long DEFAULT_GRAFT_TIMEOUT_MS = 1_000;
    static final long MIN_GRAFT_TIMEOUT_MS = 1_000;
    static final long MAX_GRAFT_TIMEOUT_MS = 2_000;
    /** How long after a node starts the network around it counts as forming: it joins the tree through a known peer. */
    static final long FORMING_MS = 10_000;
    /** Announced ids awaited at once: past it, what is missing is left to catch-up. */
    static final int MAX_MISSING = 10_000;

    /** A transaction stored lately: who it came from (never told of it again), and when. */
    private record Stored(TransactionDigest id, Neighbour from, long atNanos) {
    }

    /**
     * An id an IHAVE told us of, that we lack: who told us, in order, not yet asked; since when
     * we wait on the next answer; and whom we last GRAFTed, if anyone.
     */
    private record Missing(List<Neighbour> announcers, long sinceNanos, Neighbour grafted) {
    }

    private final TransactionPool pool;
    private final NodeEvents events;
    private final Predicate<Neighbour> isKnownPeer;
    private final ArrayDeque<Stored> recent = new ArrayDeque<>();             // guarded by this: the IHAVE window
    private final Map<TransactionDigest, Missing> missing = new LinkedHashMap<>();   // guarded by this, oldest first
    private final long startedNanos = System.nanoTime();

    BroadcastTree(TransactionPool pool, NodeEvents events, Predicate<Neighbour> isKnownPeer) {
        this.pool = pool;
        this.events = events;
        this.isKnownPeer = isKnownPeer;
    }

    /**
     * Passes a transaction this node has just stored on, to every neighbour but the one it came
     * from: {@code json} as checked, marked as a repair when it came as one ({@link Message#transaction});
     * {@code name} is for the live view.
     */
    void broadcast(TransactionDigest id, String name, String json, boolean repair, Neighbour from, List<Neighbour> neighbours) {
        synchronized (this) {
            recent.add(new Stored(id, from, System.nanoTime()));
        }
        for (Neighbour neighbour : neighbours) {
            if (neighbour != from && !neighbour.speaksWirelab()) {
                neighbour.send(Type.TRANSACTION, Message.transaction(json, false));   // a curriculum neighbour always gets it whole
                events.publish("out", "TRANSACTION", neighbour.addressOrPeer(), name);
            } else if (neighbour != from && neighbour.link.isEager()) {
                neighbour.send(Type.TRANSACTION, Message.transaction(json, repair));
                events.publish("out", "TRANSACTION", neighbour.addressOrPeer(), name);
            }
        }
    }

    /** The transaction is in the pool now, however it came: nothing to GRAFT for it. */
    synchronized void stored(TransactionDigest id) {
        missing.remove(id);
    }

    /** How long to wait for a transaction announced on this link before a GRAFT: a round trip and a half, and its spread. */
    static long graftTimeoutMs(Link link) {
        return Math.max(MIN_GRAFT_TIMEOUT_MS, Math.min(MAX_GRAFT_TIMEOUT_MS, link.roundTripTimeoutMs()));
    }

    /**
     * Once a round ({@link #IHAVE_INTERVAL_MS}): one IHAVE to each of the {@link #D_LAZY} lazy
     * neighbours told longest ago that have something to hear: the transactions stored in the
     * last {@link #ANNOUNCE_ROUNDS} rounds that did not come from them and were not announced
     * to them. Turns, not a random pick: with a random pick, a node the tree missed whose
     * neighbours have many lazy links was, now and then, told by none of them in time.
     */
    void flushAnnouncements(List<Neighbour> neighbours) {
        List<Stored> window;
        long now = System.nanoTime();
        synchronized (this) {
            long oldest = now - ANNOUNCE_ROUNDS * IHAVE_INTERVAL_MS * 1_000_000;
            while (!recent.isEmpty() && (recent.peekFirst().atNanos() - oldest < 0 || recent.size() > Link.MAX_ANNOUNCED)) {
                recent.pollFirst();
            }
            window = List.copyOf(recent);
        }
        if (window.isEmpty()) {
            return;
        }
        List<Neighbour> lazy = neighbours.stream().filter(n -> n.speaksWirelab() && !n.link.isEager())
                .sorted(Comparator.comparingLong(n -> n.link.lastIHaveNanos())).toList();
        int told = 0;
        for (Neighbour neighbour : lazy) {
            if (told == D_LAZY) {
                break;
            }
            List<TransactionDigest> ids = new ArrayList<>();
            for (Stored stored : window) {
                if (stored.from() != neighbour && neighbour.link.announce(stored.id())) {
                    ids.add(stored.id());
                }
            }
            if (ids.isEmpty()) {
                continue;   // nothing new for it: its turn goes to the next
            }
            for (int start = 0; start < ids.size(); start += Message.MAX_TREE_IDS) {
                send(neighbour, Type.IHAVE, ids.subList(start, Math.min(ids.size(), start + Message.MAX_TREE_IDS)));
            }
            neighbour.link.sentIHave(now);
            told++;
        }
    }

    /**
     * A copy of a transaction we already hold. On an eager link it closed a cycle: the link it
     * came on turns lazy, unless it is our last eager link, which keeps this node on the tree.
     * On a link lazy on our side, the other side still thinks it eager: it is told.
     */
    void duplicate(TransactionDigest id, Neighbour from, List<Neighbour> neighbours) {
        if (!from.speaksWirelab()) {
            return;   // a curriculum peer floods: it has no tree to prune
        }
        if (!from.link.isEager()) {
            prune(from);
            return;
        }
        boolean anotherEager = neighbours.stream().anyMatch(n -> n != from && n.speaksWirelab() && n.link.isEager());
        if (anotherEager && from.link.setEager(false)) {
            prune(from);
            from.log(INFO, "a second copy of " + id + " came from " + from + ": PRUNE to it");
        }
    }

    private void prune(Neighbour neighbour) {
        neighbour.send(Type.PRUNE, Message.prune());
        events.publish("out", "PRUNE", neighbour.addressOrPeer(), null);
    }

    /** The neighbour pruned our link: it is lazy now, and if it was our last eager one, another is grafted. */
    void receivePrune(Neighbour from, List<Neighbour> neighbours) {
        if (from.link.setEager(false)) {
            from.log(INFO, "PRUNE from " + from + ": the link is lazy now");
        }
        ensureEager(neighbours.stream().filter(n -> n != from).toList());
    }

    /** Ids the neighbour holds: the ones we lack are awaited, and GRAFTed if they do not come in time. */
    void receiveIHave(Neighbour from, List<TransactionDigest> ids) {
        long now = System.nanoTime();
        int dropped = 0;
        synchronized (this) {
            for (TransactionDigest id : ids) {
                from.link.announce(id);   // it holds it: not worth announcing back to it
                Missing awaited = missing.get(id);
                if (awaited != null) {
                    if (!awaited.announcers().contains(from) && awaited.announcers().size() < 3) {
                        awaited.announcers().add(from);   // the next to ask, if the first does not answer
                    }
                } else if (!pool.contains(id)) {
                    if (missing.size() >= MAX_MISSING) {
                        dropped++;
                        continue;
                    }
                    missing.put(id, new Missing(new ArrayList<>(List.of(from)), now, null));
                }
            }
        }
        if (dropped > 0) {
            from.log(WARNING, "IHAVE from " + from + ": already awaiting " + MAX_MISSING + " ids; ignored " + dropped
                    + " (catch-up will find them)");
        }
    }

    /**
     * The neighbour makes our link eager, and lacks these ids, which we announced: we send each
     * once, read from the pool one at a time as the connection takes them. A GRAFT with no ids
     * only makes the link eager: the neighbour's way into the tree.
     */
    void receiveGraft(Neighbour from, List<TransactionDigest> ids) {
        if (from.link.setEager(true)) {
            from.log(INFO, "GRAFT from " + from + ": the link is eager now" + (ids.isEmpty() ? "" : "; it asks for " + ids.size()));
        }
        List<TransactionDigest> announced = ids.stream().filter(from.link::takeAnnounced).toList();
        if (announced.size() < ids.size()) {
            from.log(WARNING, "GRAFT from " + from + ": " + (ids.size() - announced.size())
                    + " of its ids were not announced to it (or already sent); ignored them");
        }
        if (!announced.isEmpty()) {
            from.sendLazily(new GraftAnswer(from, announced));
        }
    }

    /** The transactions a GRAFT asked for, read from the pool (one open file) as the connection takes them. */
    private final class GraftAnswer implements Outbox.Producer {
        private final Neighbour to;
        private final List<TransactionDigest> ids;
        private final TransactionPool.Reader reader = pool.reader();
        private int next;

        GraftAnswer(Neighbour to, List<TransactionDigest> ids) {
            this.to = to;
            this.ids = ids;
        }

        @Override
        public String next() {
            while (next < ids.size()) {
                String transaction = reader.transactionJson(ids.get(next++));
                if (transaction != null) {
                    String text = Message.transaction(transaction, true);
                    to.countSent(Type.TRANSACTION, text);
                    events.publish("out", "TRANSACTION", to.addressOrPeer(), null);
                    return text;
                }
            }
            return null;
        }

        @Override
        public void close() {
            reader.close();
        }
    }

    /**
     * On the node's heartbeat: the ids awaited longer than their GRAFT timeout are GRAFTed from
     * the announcer that told us of most of them (which also mends the tree through that link);
     * each of them then waits on its next announcer, if another told us of it. One GRAFT a beat
     * at most: when many copies are late at once (a burst, a CPU stall), a GRAFT to each
     * announcer would make as many eager links, and the duplicates that prune them again. If no
     * copy comes at all, catch-up brings it.
     */
    void graftOverdue() {
        Map<Neighbour, List<TransactionDigest>> byAnnouncer = new LinkedHashMap<>();
        long now = System.nanoTime();
        synchronized (this) {
            var each = missing.entrySet().iterator();
            while (each.hasNext()) {
                var entry = each.next();
                Missing awaited = entry.getValue();
                Link waitedOn = awaited.grafted() != null ? awaited.grafted().link : awaited.announcers().get(0).link;
                if ((now - awaited.sinceNanos()) / 1_000_000 < graftTimeoutMs(waitedOn)) {
                    continue;
                }
                if (pool.contains(entry.getKey()) || awaited.announcers().isEmpty()) {
                    each.remove();   // it came, or nobody else is left to ask: catch-up will find it
                    continue;
                }
                byAnnouncer.computeIfAbsent(awaited.announcers().get(0), n -> new ArrayList<>()).add(entry.getKey());
            }
            if (byAnnouncer.isEmpty()) {
                return;
            }
            Neighbour announcer = byAnnouncer.entrySet().stream().max(Comparator.comparingInt(e -> e.getValue().size()))
                    .orElseThrow().getKey();
            for (TransactionDigest id : byAnnouncer.get(announcer)) {
                Missing awaited = missing.get(id);
                List<Neighbour> rest = new ArrayList<>(awaited.announcers().subList(1, awaited.announcers().size()));
                missing.put(id, new Missing(rest, now, announcer));   // its answer awaited in turn
            }
        }
        Neighbour announcer = byAnnouncer.entrySet().stream().max(Comparator.comparingInt(e -> e.getValue().size()))
                .orElseThrow().getKey();
        List<TransactionDigest> ids = byAnnouncer.get(announcer);
        announcer.link.setEager(true);
        for (int start = 0; start < ids.size(); start += Message.MAX_TREE_IDS) {
            send(announcer, Type.GRAFT, ids.subList(start, Math.min(ids.size(), start + Message.MAX_TREE_IDS)));
        }
        announcer.log(INFO, "GRAFT to " + announcer + ": " + ids.size() + " announced transactions did not come within "
                + graftTimeoutMs(announcer.link) + " ms");
    }

    /**
     * A node of ours with gossip neighbours and no eager link among them is off the tree: it
     * grafts one. The neighbour that brought it a new transaction last is on the tree and
     * upstream of it; before any has, a known peer; else the one with the shortest round trip.
     * While the network forms (its first {@link #FORMING_MS}) a node joins through a known peer
     * in any case, and waits for one rather than graft another: known peers are every node's way
     * in, so the tree starts as one star around them, linked through them. Without that, node-1
     * and node-3, each grafted by the nodes that reached it first, would be two trees apart.
     * Called on the heartbeat and after a PRUNE.
     */
    void ensureEager(List<Neighbour> neighbours) {
        List<Neighbour> ours = neighbours.stream().filter(Neighbour::speaksWirelab).toList();
        boolean forming = (System.nanoTime() - startedNanos) / 1_000_000 < FORMING_MS;
        List<Neighbour> knownPeers = ours.stream().filter(isKnownPeer).toList();
        if (forming && !knownPeers.isEmpty() && knownPeers.stream().noneMatch(n -> n.link.isEager())) {
            graftToJoin(knownPeers.stream().min(Comparator.comparingDouble(n -> n.link.rttMs())).orElseThrow());
            return;
        }
        if (ours.isEmpty() || ours.stream().anyMatch(n -> n.link.isEager()) || (forming && knownPeers.isEmpty())) {
            return;
        }
        graftToJoin(ours.stream().min(Comparator.comparingLong((Neighbour n) -> -n.lastNewTransactionNanos())
                .thenComparing(n -> !isKnownPeer.test(n)).thenComparingDouble(n -> n.link.rttMs())).orElseThrow());
    }

    private void graftToJoin(Neighbour chosen) {
        chosen.link.setEager(true);
        send(chosen, Type.GRAFT, List.of());
        log.log(INFO, "grafted " + chosen + " to join the broadcast tree");
    }

    /** A neighbour that is gone can no longer send what it announced: those ids wait on their next announcer. */
    synchronized void forget(Neighbour gone) {
        var each = missing.entrySet().iterator();
        while (each.hasNext()) {
            var entry = each.next();
            Missing awaited = entry.getValue();
            if (!awaited.announcers().contains(gone) && awaited.grafted() != gone) {
                continue;
            }
            List<Neighbour> left = new ArrayList<>(awaited.announcers());
            left.remove(gone);
            Neighbour grafted = awaited.grafted() == gone ? null : awaited.grafted();
            if (left.isEmpty() && grafted == null) {
                each.remove();
            } else {
                entry.setValue(new Missing(left, awaited.sinceNanos(), grafted));
            }
        }
    }

    private void send(Neighbour neighbour, Type type, List<TransactionDigest> ids) {
        neighbour.send(type, Message.ids(type, ids));
        events.publish("out", type.name(), neighbour.addressOrPeer(), null);
    }
}
