package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import com.google.gson.JsonElement;

import wirelab.Text;
import wirelab.p2p.Message.Type;

/**
 * Catch-up: whenever two nodes connect, and again on a timer, each ends up holding every
 * transaction the other has. Gossip alone reaches only the nodes connected when a transaction
 * is stored; a node that was down, cloned later, or cut off by a partition would miss it for
 * good. So when one of our nodes dials another, the one that accepted starts a catch-up
 * as soon as the dialer's HANDSHAKE has come (only the accepter knows, from the dialer's
 * {@code Wirelab-Gossip} header, that the other side speaks these types); and every
 * {@code SYNC_INTERVAL_MS} each node starts one with a neighbour picked at random, so a node
 * that was cut off converges once any path exists. The two pools converge to their union. The
 * cost follows the difference: two pools in sync exchange one small message.
 *
 * <pre>
 *  A (starts)                                                   B
 *  SYNC         {"count": 9, "digest": "6b1f..."}         ->    same digest and count: done
 *                                                         <-    SYNC_BUCKETS {"buckets": [256 digests]}
 *  SYNC_IDS     {"buckets": [3, 200], "ids": [A's ids     ->
 *               in the buckets whose digests differ]}
 *                                                         <-    TRANSACTION ... each one A lacks
 *                                                         <-    SYNC_WANT {"ids": [the ones B lacks]}
 *  TRANSACTION  ... each one B asked for                  ->
 * </pre>
 *
 * The ids are transaction digests ({@link TransactionDigest}); the buckets and their digests
 * are the {@link PoolIndex}'s. A SYNC_IDS carries whole buckets, at most
 * {@link Message#MAX_CATCH_UP_IDS} ids: a pool at MAX_POOL_TRANSACTIONS holds about 19,500 a
 * bucket. A bucket bigger than that is listed in parts; B answers its first part with every
 * transaction of that bucket the part does not name, so a part never hides one A lacks.
 * Transactions that arrive this way are stored and passed on like any other, so they also
 * reach nodes that are connected to only one side. Nodes that do not know these types (the
 * curriculum's) are never sent them: HANDSHAKE stays the first message on every connection,
 * and a SYNC goes only to a {@link Neighbour} that has shown it speaks them.
 *
 * <p>What a peer can make this node do is bounded:
 * <ul>
 * <li>each step is accepted only in its turn on its connection, and only for what was
 *     offered: a SYNC_WANT may name only ids we listed in our SYNC_IDS, each once; at most one
 *     SYNC per connection per half sync interval; lists are capped;
 * <li>every transaction and id list (SYNC_IDS, SYNC_WANT) we send in catch-up is charged to
 *     the source's budget (CATCH_UP_BYTES_PER_MINUTE) as it is written, across reconnects;
 * <li>long answers are never held as text: they go out through the {@link Outbox} one message
 *     at a time, read from the pool as the peer takes them, so a peer that stops reading holds
 *     four bytes for each transaction it was promised, and at most a minute's budget of them.
 * </ul>
 */
final class CatchUp {

    private static final System.Logger log = System.getLogger("peer-node");

    private final TransactionPool pool;
    private final NodeEvents events;
    private final long syncIntervalMs;
    private final AtomicLong bytesSent = new AtomicLong();

    CatchUp(TransactionPool pool, NodeEvents events, long syncIntervalMs) {
        this.pool = pool;
        this.events = events;
        this.syncIntervalMs = syncIntervalMs;
    }

    /** One connection's side of a catch-up: which step comes next on it. Guarded by itself. */
    static final class Session {
        private boolean syncSent;                        // A: waiting for SYNC_BUCKETS
        private long syncSentNanos;                      // A: when we last started one here
        private final BitSet offered = new BitSet();     // A: pool positions listed in this round's SYNC_IDS, not yet wanted
        private long lastSyncNanos;                      // B: when the last SYNC came
        private boolean bucketsSent;                     // B: waiting for SYNC_IDS
        private final Set<Integer> bucketsAnswered = new HashSet<>();
    }

    /** The first step: here is what we hold. */
    void start(Neighbour neighbour) {
        synchronized (neighbour.catchUp) {
            sendSync(neighbour);
        }
    }

    /** True when we started no catch-up on this neighbour's connection within SYNC_INTERVAL_MS. */
    boolean due(Neighbour neighbour) {
        synchronized (neighbour.catchUp) {
            Session session = neighbour.catchUp;
            return session.syncSentNanos == 0 || (System.nanoTime() - session.syncSentNanos) / 1_000_000 >= syncIntervalMs;
        }
    }

    /** A SYNC, SYNC_BUCKETS, SYNC_IDS or SYNC_WANT that came on this neighbour's connection. */
    void receive(Neighbour neighbour, Type type, JsonElement data) {
        synchronized (neighbour.catchUp) {   // one step at a time on a connection; other connections go on
            Session session = neighbour.catchUp;
            try {
                switch (type) {
                    case SYNC -> receiveSync(neighbour, session, Message.sync(data));
                    case SYNC_BUCKETS -> receiveBuckets(neighbour, session, data);
                    case SYNC_IDS -> receiveIds(neighbour, session, data);
                    case SYNC_WANT -> receiveWant(neighbour, session, Message.ids(data, Message.MAX_CATCH_UP_IDS));
                    default -> throw new IllegalArgumentException("not a catch-up message: " + type);
                }
            } catch (Message.Malformed e) {
                neighbour.log(WARNING, "ignored a " + type + " from " + neighbour + ": " + e.getMessage());
            }
        }
    }

    // --- A's side: the one that starts -------------------------------------------------------

    /** Here is what we hold, in a count and a digest. A new round: what the last one offered is forgotten. */
    private void sendSync(Neighbour neighbour) {
        Session session = neighbour.catchUp;
        session.syncSent = true;
        session.syncSentNanos = System.nanoTime();
        session.offered.clear();
        send(neighbour, Type.SYNC, Message.sync(pool.count(), pool.bucketDigests()));
    }

    /** B's pool differs: list our ids in every bucket whose digest differs from B's, a SYNC_IDS at a time. */
    private void receiveBuckets(Neighbour neighbour, Session session, JsonElement data) throws Message.Malformed {
        if (!session.syncSent) {
            neighbour.log(WARNING, "ignored a SYNC_BUCKETS from " + neighbour + ": we sent no SYNC it could answer");
            return;
        }
        List<Integer> differing = Message.differingBuckets(data, pool.bucketDigests());
        session.syncSent = false;
        neighbour.log(INFO, "catch-up with " + neighbour + ": " + differing.size() + " buckets differ; listing our ids in them");
        neighbour.sendLazily(new IdLists(neighbour, differing));
    }

    /** Our ids in the buckets that differ, a SYNC_IDS message at a time, made as the connection takes them. */
    private final class IdLists implements Outbox.Producer {
        private final Neighbour neighbour;
        private final List<Integer> buckets;
        private int next;       // the bucket to list next
        private int listedOfIt; // how many of its ids are listed already: non-zero only in a bucket too big for one message

        IdLists(Neighbour neighbour, List<Integer> buckets) {
            this.neighbour = neighbour;
            this.buckets = buckets;
        }

        @Override
        public String next() {
            if (next >= buckets.size()) {
                return null;
            }
            List<Integer> listed = new ArrayList<>();
            List<TransactionDigest> ids = new ArrayList<>();
            while (next < buckets.size()) {
                int bucket = buckets.get(next);
                int left = pool.bucketSize(bucket) - listedOfIt;
                if (!listed.isEmpty() && ids.size() + left > Message.MAX_CATCH_UP_IDS) {
                    break;   // whole buckets in a message, unless one alone is too big
                }
                int[] positions = pool.positionsInBucket(bucket, listedOfIt, Message.MAX_CATCH_UP_IDS - ids.size());
                listed.add(bucket);
                synchronized (neighbour.catchUp) {
                    for (int position : positions) {
                        ids.add(pool.digestAt(position));
                        neighbour.catchUp.offered.set(position);
                    }
                }
                listedOfIt += positions.length;
                if (listedOfIt < pool.bucketSize(bucket)) {
                    break;   // the rest of this bucket goes in the next message
                }
                next++;
                listedOfIt = 0;
            }
            return lazily(neighbour, Type.SYNC_IDS, Message.syncIds(listed, ids));
        }

        @Override
        public void close() {
        }
    }

    /** B lacks these: send each, once, if we offered it. */
    private void receiveWant(Neighbour neighbour, Session session, List<TransactionDigest> wanted) {
        int[] positions = new int[wanted.size()];
        int offered = 0;
        for (TransactionDigest id : wanted) {
            int position = pool.positionOf(id);
            if (position >= 0 && session.offered.get(position)) {
                session.offered.clear(position);
                positions[offered++] = position;
            }
        }
        if (offered < wanted.size()) {
            neighbour.log(WARNING, "catch-up with " + neighbour + ": " + (wanted.size() - offered)
                    + " of the ids in its SYNC_WANT were not offered to it (or already sent); ignored them");
        }
        neighbour.log(INFO, "catch-up with " + neighbour + ": sending the " + offered + " transactions it lacked");
        neighbour.sendLazily(new Transactions(neighbour, Arrays.copyOf(positions, offered)));
    }

    // --- B's side: the one that answers -----------------------------------------------------

    /** A's summary: when it matches ours we are in sync and say nothing; else we show our buckets. */
    private void receiveSync(Neighbour neighbour, Session session, Message.Sync theirs) {
        long now = System.nanoTime();
        if (session.lastSyncNanos != 0 && (now - session.lastSyncNanos) / 1_000_000 < syncIntervalMs / 2) {
            neighbour.log(WARNING, "ignored a SYNC from " + neighbour + ": one per " + syncIntervalMs / 2 + " ms on a connection");
            return;
        }
        session.lastSyncNanos = now;
        long[] ours = pool.bucketDigests();
        int count = pool.count();
        if (theirs.matches(count, ours)) {
            neighbour.log(INFO, "catch-up with " + neighbour + ": in sync at " + count + " transactions");
            return;
        }
        session.bucketsSent = true;
        session.bucketsAnswered.clear();
        send(neighbour, Type.SYNC_BUCKETS, Message.syncBuckets(ours));
    }

    /**
     * A's ids in some buckets: send what A lacks there (ours in a bucket listed for the first
     * time this round, that the list does not name), and ask for what we lack. What we will
     * send is fixed now, as pool positions, up to what the source's budget allows; the ids A
     * listed are not kept.
     */
    private void receiveIds(Neighbour neighbour, Session session, JsonElement data) throws Message.Malformed {
        if (!session.bucketsSent) {
            neighbour.log(WARNING, "ignored a SYNC_IDS from " + neighbour + ": we sent no SYNC_BUCKETS it could answer");
            return;
        }
        Message.SyncIds listed = Message.syncIds(data);
        Set<Integer> declared = new HashSet<>(listed.buckets());
        Set<Integer> firstListed = new HashSet<>();
        for (int bucket : listed.buckets()) {
            if (session.bucketsAnswered.add(bucket)) {
                firstListed.add(bucket);
            }
        }
        Set<TransactionDigest> theirs = new HashSet<>();
        for (TransactionDigest id : listed.ids()) {
            if (declared.contains(id.bucket())) {
                theirs.add(id);
            }
        }
        int[] toSend = oursNotIn(theirs, firstListed, (long) neighbour.source.catchUpBytes.available());
        List<TransactionDigest> wanted = theirs.stream().filter(id -> !pool.contains(id)).toList();
        neighbour.sendLazily(new Transactions(neighbour, toSend));
        if (!wanted.isEmpty()) {
            sendIfBudget(neighbour, Type.SYNC_WANT, Message.ids(Type.SYNC_WANT, wanted));
        }
        neighbour.log(INFO, "catch-up with " + neighbour + ": sending " + toSend.length + " transactions it lacks, asked for the "
                + wanted.size() + " we lack");
    }

    /** Positions of our transactions in these buckets whose digests are not in {@code theirs}, up to {@code budget} bytes of them. */
    private int[] oursNotIn(Set<TransactionDigest> theirs, Set<Integer> buckets, long budget) {
        int[] positions = new int[64];
        int found = 0;
        long bytes = 0;
        for (int bucket : buckets) {
            int size = pool.bucketSize(bucket);
            for (int from = 0; from < size; from += Message.MAX_CATCH_UP_IDS) {
                for (int position : pool.positionsInBucket(bucket, from, Message.MAX_CATCH_UP_IDS)) {
                    if (theirs.contains(pool.digestAt(position))) {
                        continue;
                    }
                    bytes += pool.lineLength(position) + TRANSACTION_ENVELOPE;
                    if (bytes > budget) {
                        return Arrays.copyOf(positions, found);   // the next round sends the rest
                    }
                    if (found == positions.length) {
                        positions = Arrays.copyOf(positions, 2 * found);
                    }
                    positions[found++] = position;
                }
            }
        }
        return Arrays.copyOf(positions, found);
    }

    /** What a catch-up TRANSACTION adds to a transaction's line ({@link Message#transaction}). */
    private static final int TRANSACTION_ENVELOPE = Message.transaction("", true).length();

    // --- sending, within the source's budget ----------------------------------------------------

    /**
     * The TRANSACTIONs at these pool positions, read from the file one at a time as the
     * connection takes them, each charged to the source's budget; it stops when the budget is
     * spent (the next catch-up, once it refills, sends the rest).
     */
    final class Transactions implements Outbox.Producer {
        private final Neighbour neighbour;
        private final int[] positions;
        private final TransactionPool.Reader reader = pool.reader();
        private int next;

        Transactions(Neighbour neighbour, int[] positions) {
            this.neighbour = neighbour;
            this.positions = positions;
        }

        @Override
        public String next() {
            while (next < positions.length) {
                String transaction = reader.transactionAt(positions[next++]);
                if (transaction != null) {   // null: it could not be read back (logged)
                    return lazily(neighbour, Type.TRANSACTION, Message.transaction(transaction, true));
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
     * Sends a SYNC or SYNC_BUCKETS now: a fixed size (60 bytes, 5 KiB), one per connection per
     * half sync interval, so they are not charged to the budget; what they lead to is.
     */
    private void send(Neighbour neighbour, Type type, String text) {
        bytesSent.addAndGet(Text.utf8Length(text));
        neighbour.send(type, text);
        events.publish("out", type.name(), neighbour.addressOrPeer(), null);
    }

    /** Sends an id list (a SYNC_WANT) now, if the source's budget holds it. */
    private void sendIfBudget(Neighbour neighbour, Type type, String text) {
        if (charge(neighbour, type, text)) {
            neighbour.send(type, text);
        }
    }

    /** A message a producer is about to hand the outbox: charged and counted, or null when the budget is spent. */
    private String lazily(Neighbour neighbour, Type type, String text) {
        if (!charge(neighbour, type, text)) {
            return null;
        }
        neighbour.countSent(type, text);
        return text;
    }

    /**
     * Takes the message's bytes from the source's catch-up budget and counts it as sent; false
     * (counted as a refusal, logged within the quota) when the budget is spent for now.
     */
    private boolean charge(Neighbour neighbour, Type type, String text) {
        int bytes = Text.utf8Length(text);
        if (!neighbour.source.catchUpBytes.tryTake(bytes)) {
            neighbour.refused(Refusal.CATCH_UP_PAST_BUDGET);
            neighbour.log(WARNING, "catch-up with " + neighbour + ": its source's budget (CATCH_UP_BYTES_PER_MINUTE) is spent "
                    + "for now; sent no more");
            return false;
        }
        neighbour.source.served(bytes);
        bytesSent.addAndGet(bytes);
        events.publish("out", type.name(), neighbour.addressOrPeer(), null);
        return true;
    }

    /** Payload bytes of every catch-up message (and transaction) this node has sent: the cost of staying in sync. */
    long bytesSent() {
        return bytesSent.get();
    }
}
