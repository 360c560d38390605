package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * How a transaction reaches every node at close to one copy each: Plumtree's eager and lazy
 * push (Leitão, Pereira, Rodrigues, SRDS 2007), between nodes that speak it. The curriculum's
 * flooding sends each transaction over every connection, so a node with d neighbours receives
 * d copies of it. Here every link between two of our nodes is either <em>eager</em>, part of a
 * spanning tree, and carries whole TRANSACTIONs, or <em>lazy</em>, and carries only ids:
 *
 * <pre>
 *  A stores a new transaction:   TRANSACTION (as it came) -> every eager neighbour and every curriculum one
 *                                IHAVE {"ids": [...]}      -> every lazy neighbour, within half a second
 *  B receives a second copy:     PRUNE {}                  -> the one that sent it: the link turns lazy, both ends
 *  C has an IHAVE, and after     GRAFT {"ids": [...]}      -> the one that announced it: the link turns eager,
 *    the GRAFT timeout still no transaction                   and the announcer sends the transaction
 * </pre>
 *
 * Every link starts eager, so the first transactions flood; each duplicate prunes a link that
 * closed a cycle, and what stays eager is close to a tree: about one TRANSACTION per node per
 * transaction. A PRUNE and a GRAFT that cross can leave a link eager at one end only; a whole
 * copy that comes on a link lazy on our side is answered with a PRUNE too. Prunes that cross
 * each other can cut a node off the tree; it still hears the IHAVEs of every lazy link, and
 * GRAFTs its way back in, as it does when a node of the tree dies. A node never prunes its last
 * eager link. The GRAFT timeout grows while whole copies come late ({@link #stored}), so a busy
 * network is not mistaken for a broken tree. IHAVEs wait for the node's heartbeat
 * ({@link #flushAnnouncements}), so a burst of transactions costs one IHAVE per lazy link, not
 * one per transaction. Catch-up ({@link CatchUp}) on a timer is the last resort.
 *
 * <p>Bounded against a peer that misbehaves: an IHAVE or GRAFT lists at most
 * {@link #MAX_IDS_PER_MESSAGE} ids; at most {@link #MAX_MISSING} announced ids are awaited at
 * once; a GRAFT fetches only ids we announced on that link, each once.
 */
final class BroadcastTree {

    private static final System.Logger log = System.getLogger("peer-node");

    /** How long an announced id may take to come whole before we GRAFT for it: at least this, ... */
    static final long GRAFT_TIMEOUT_MS = 1_000;
    /** ... and at most this, when copies come late because every node is busy. */
    static final long MAX_GRAFT_TIMEOUT_MS = 10_000;
    static final int MAX_IDS_PER_MESSAGE = 1_000;
    static final int MAX_MISSING = 10_000;
    /** Ids announced on one link that its GRAFT may still ask for; the oldest are forgotten first. */
    static final int MAX_ANNOUNCED_PER_LINK = 10_000;

    /** One link's side of the tree: eager or lazy, what waits to be announced on it, and what was. */
    static final class Link {
        private boolean eager = true;
        private List<TransactionDigest> toAnnounce = new ArrayList<>();
        private final Set<TransactionDigest> announced = new LinkedHashSet<>();

        synchronized boolean isEager() {
            return eager;
        }

        /** Turns the link eager or lazy; true when that changed it. */
        synchronized boolean setEager(boolean eager) {
            boolean changed = this.eager != eager;
            this.eager = eager;
            return changed;
        }

        /** Queues an id for the next IHAVE; past MAX_ANNOUNCED_PER_LINK waiting, the id is not announced (catch-up covers it). */
        synchronized void announce(TransactionDigest id) {
            if (toAnnounce.size() < MAX_ANNOUNCED_PER_LINK) {
                toAnnounce.add(id);
            }
        }

        /** The ids waiting to be announced, now counted as announced (a GRAFT may ask for them). */
        synchronized List<TransactionDigest> takeToAnnounce() {
            List<TransactionDigest> ids = toAnnounce;
            toAnnounce = new ArrayList<>();
            for (TransactionDigest id : ids) {
                if (announced.add(id) && announced.size() > MAX_ANNOUNCED_PER_LINK) {
                    var oldest = announced.iterator();
                    oldest.next();
                    oldest.remove();
                }
            }
            return ids;
        }

        synchronized boolean takeAnnounced(TransactionDigest id) {
            return announced.remove(id);
        }
    }

    /** An id an IHAVE told us of, that we lack: who told us, and when. */
    private record Missing(Neighbour announcer, long sinceNanos) {
    }

    private final TransactionPool pool;
    private final NodeEvents events;
    private final Map<TransactionDigest, Missing> missing = new LinkedHashMap<>();   // in the order announced: oldest first
    private long graftTimeoutMs = GRAFT_TIMEOUT_MS;                         // guarded by this

    BroadcastTree(TransactionPool pool, NodeEvents events) {
        this.pool = pool;
        this.events = events;
    }

    /** Passes a transaction this node has just stored on, to every neighbour but the one it came from; {@code name} is for the live view. */
    void broadcast(TransactionDigest id, String name, String messageText, Neighbour from, List<Neighbour> neighbours) {
        for (Neighbour neighbour : neighbours) {
            if (neighbour == from) {
                continue;
            }
            if (!neighbour.speaksWirelab() || neighbour.link.isEager()) {
                neighbour.send("TRANSACTION", messageText);   // byte for byte: curriculum nodes compare content
                events.publish("out", "TRANSACTION", neighbour.peer, name);
            } else {
                neighbour.link.announce(id);
            }
        }
    }

    /** On the heartbeat: one IHAVE to each lazy link, naming every transaction stored since the last one. */
    void flushAnnouncements(List<Neighbour> neighbours) {
        for (Neighbour neighbour : neighbours) {
            List<TransactionDigest> ids = neighbour.link.takeToAnnounce();
            for (int start = 0; start < ids.size(); start += MAX_IDS_PER_MESSAGE) {
                neighbour.send("IHAVE", message("IHAVE", ids.subList(start, Math.min(ids.size(), start + MAX_IDS_PER_MESSAGE))));
            }
            if (!ids.isEmpty()) {
                events.publish("out", "IHAVE", neighbour.peer, null);
            }
        }
    }

    /**
     * The transaction is in the pool now, however it came: nothing to GRAFT for it. If it came
     * after its IHAVE, and no GRAFT asked for it, the tree is slow, not broken: a busy network
     * delivers late, and a GRAFT then would only add an eager link and the duplicates that
     * prune it again. So the timeout grows at once to twice the lateness seen (up to
     * MAX_GRAFT_TIMEOUT_MS), and shrinks by about a tenth a second ({@link #graftOverdue}).
     */
    synchronized void stored(TransactionDigest id) {
        Missing awaited = missing.remove(id);
        if (awaited != null) {
            long lateMs = (System.nanoTime() - awaited.sinceNanos()) / 1_000_000;
            graftTimeoutMs = Math.min(MAX_GRAFT_TIMEOUT_MS, Math.max(graftTimeoutMs, 2 * lateMs));
        }
    }

    /**
     * A copy of a transaction we already hold: the eager link it came on closed a cycle, so it
     * turns lazy; unless it is our last eager link, which keeps this node on the tree.
     */
    void duplicate(Neighbour from, Supplier<List<Neighbour>> neighbours) {
        if (!from.speaksWirelab()) {
            return;   // a curriculum peer floods: it has no tree to prune
        }
        if (!from.link.isEager()) {
            prune(from);   // lazy on our side, still eager on its side: tell it
            return;
        }
        boolean anotherEager = neighbours.get().stream().anyMatch(n -> n != from && n.speaksWirelab() && n.link.isEager());
        if (anotherEager && from.link.setEager(false)) {
            prune(from);
        }
    }

    private static void prune(Neighbour neighbour) {
        neighbour.send("PRUNE", "{\"type\":\"PRUNE\",\"data\":{}}");
    }

    void receivePrune(Neighbour from) {
        from.link.setEager(false);
    }

    /** Ids the neighbour holds: the ones we lack are awaited, and GRAFTed if they do not come in time. */
    void receiveIHave(Neighbour from, JsonElement data) {
        List<TransactionDigest> ids = CatchUp.idList(from, "IHAVE", data, MAX_IDS_PER_MESSAGE);
        if (ids == null) {
            return;
        }
        long now = System.nanoTime();
        int dropped = 0;
        synchronized (this) {
            for (TransactionDigest id : ids) {
                if (missing.containsKey(id) || pool.contains(id)) {
                    continue;
                }
                if (missing.size() >= MAX_MISSING) {
                    dropped++;
                    continue;
                }
                missing.put(id, new Missing(from, now));
            }
        }
        if (dropped > 0) {
            from.log(WARNING, "IHAVE from " + from + ": already awaiting " + MAX_MISSING + " ids; ignored " + dropped
                    + " (catch-up will find them)");
        }
    }

    /**
     * The neighbour lacks these, which we announced: the link turns eager, and we send each
     * once, read from the pool one at a time as the connection takes them.
     */
    void receiveGraft(Neighbour from, JsonElement data) {
        List<TransactionDigest> ids = CatchUp.idList(from, "GRAFT", data, MAX_IDS_PER_MESSAGE);
        if (ids == null) {
            return;
        }
        from.link.setEager(true);
        List<TransactionDigest> announced = ids.stream().filter(from.link::takeAnnounced).toList();
        if (announced.size() < ids.size()) {
            from.log(WARNING, "GRAFT from " + from + ": " + (ids.size() - announced.size())
                    + " of its ids were not announced to it (or already sent); ignored them");
        }
        from.sendLazily(new Outbox.Producer() {
            private int next;

            @Override
            public String next() {
                while (next < announced.size()) {
                    TransactionDigest id = announced.get(next++);
                    String transaction = pool.transactionJson(id);
                    if (transaction != null) {
                        String text = "{\"type\":\"TRANSACTION\",\"data\":" + transaction + "}";
                        from.countSent("TRANSACTION", text);
                        events.publish("out", "TRANSACTION", from.peer, null);
                        return text;
                    }
                }
                return null;
            }

            @Override
            public void close() {
            }
        });
    }

    /**
     * Called on the node's heartbeat: for every id announced more than the GRAFT timeout ago and
     * still missing, one GRAFT to its announcer, which also mends the tree through that link.
     * If even that copy does not come, the next IHAVE or catch-up brings it.
     */
    void graftOverdue() {
        Map<Neighbour, List<TransactionDigest>> byAnnouncer = new LinkedHashMap<>();
        long now = System.nanoTime();
        long timeoutMs;
        synchronized (this) {
            graftTimeoutMs = Math.max(GRAFT_TIMEOUT_MS, graftTimeoutMs * 99 / 100);   // the heartbeat is 100 ms
            timeoutMs = graftTimeoutMs;
            var oldest = missing.entrySet().iterator();
            while (oldest.hasNext()) {
                var entry = oldest.next();
                if ((now - entry.getValue().sinceNanos()) / 1_000_000 < timeoutMs) {
                    break;   // the rest came later still
                }
                oldest.remove();
                if (!pool.contains(entry.getKey())) {
                    byAnnouncer.computeIfAbsent(entry.getValue().announcer(), n -> new ArrayList<>()).add(entry.getKey());
                }
            }
        }
        byAnnouncer.forEach((announcer, ids) -> {
            announcer.link.setEager(true);
            for (int start = 0; start < ids.size(); start += MAX_IDS_PER_MESSAGE) {
                announcer.send("GRAFT", message("GRAFT", ids.subList(start, Math.min(ids.size(), start + MAX_IDS_PER_MESSAGE))));
            }
            announcer.log(INFO, "GRAFT to " + announcer + ": " + ids.size() + " announced transactions did not come within "
                    + timeoutMs + " ms");
        });
    }

    /** A neighbour that is gone can no longer send what it announced: those ids wait for another IHAVE or catch-up. */
    synchronized void forget(Neighbour gone) {
        missing.values().removeIf(m -> m.announcer() == gone);
    }

    private static String message(String type, List<TransactionDigest> ids) {
        JsonObject data = new JsonObject();
        JsonArray list = new JsonArray();
        ids.forEach(id -> list.add(id.toString()));
        data.add("ids", list);
        return PeerNode.message(type, data);
    }
}
