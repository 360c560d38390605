package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * Catch-up: whenever two nodes connect, and again on a timer, each ends up holding every
 * transaction the other has. Gossip alone reaches only the nodes connected when a transaction
 * is stored; a node that was down, cloned later, or cut off by a partition would miss it for
 * good. So when one of our nodes dials another, the one that accepted starts a reconciliation
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
 * The digests are {@link TransactionPool}'s: an id's SHA-256 picks one of 256 buckets, and a
 * bucket's digest is the XOR of its ids' hashes. Transactions that arrive this way are stored
 * and passed on like any other, so they also reach nodes that are connected to only one side.
 * Nodes that do not know these types (the curriculum's) are never sent them: HANDSHAKE stays
 * the first message on every connection, and a SYNC goes only to a {@link Neighbour} that has
 * shown it speaks them.
 *
 * <p>Each step is accepted only in its turn on its connection, and only for what was offered:
 * a SYNC_WANT may name only ids we listed in our SYNC_IDS, each once; at most one SYNC per
 * connection per half sync interval; lists are capped. So a peer that asks for the same thing
 * forever costs bounded work.
 */
final class CatchUp {

    private static final System.Logger log = System.getLogger("peer-node");
    private static final Gson gson = new Gson();

    /** A SYNC_IDS carries at most this many ids; a bigger set goes in several. */
    static final int MAX_IDS_PER_MESSAGE = 10_000;

    private final TransactionPool pool;
    private final NodeEvents events;
    private final long syncIntervalMs;
    private final AtomicLong bytesSent = new AtomicLong();

    CatchUp(TransactionPool pool, NodeEvents events, long syncIntervalMs) {
        this.pool = pool;
        this.events = events;
        this.syncIntervalMs = syncIntervalMs;
    }

    /** One connection's side of a reconciliation: which step comes next on it. */
    static final class Session {
        private boolean syncSent;                        // A: waiting for SYNC_BUCKETS
        private long syncSentNanos;                      // A: when we last started one here
        private final Set<String> offered = new HashSet<>();   // A: ids listed in our SYNC_IDS, not yet wanted
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

    /** True when we started no reconciliation on this neighbour's connection within the sync interval. */
    boolean due(Neighbour neighbour) {
        synchronized (neighbour.catchUp) {
            Session session = neighbour.catchUp;
            return session.syncSentNanos == 0 || (System.nanoTime() - session.syncSentNanos) / 1_000_000 >= syncIntervalMs;
        }
    }

    /** A SYNC, SYNC_BUCKETS, SYNC_IDS or SYNC_WANT that came on this neighbour's connection. */
    void receive(Neighbour neighbour, String type, JsonElement data) {
        synchronized (neighbour.catchUp) {   // one step at a time on a connection; other connections go on
            Session session = neighbour.catchUp;
            switch (type) {
                case "SYNC" -> receiveSync(neighbour, session, data);
                case "SYNC_BUCKETS" -> receiveBuckets(neighbour, session, data);
                case "SYNC_IDS" -> receiveIds(neighbour, session, data);
                case "SYNC_WANT" -> receiveWant(neighbour, session, data);
                default -> throw new IllegalArgumentException("not a catch-up message: " + type);
            }
        }
    }

    // --- A's side: the one that starts -------------------------------------------------------

    /** Here is what we hold, in a count and a digest. */
    private void sendSync(Neighbour neighbour) {
        Session session = neighbour.catchUp;
        session.syncSent = true;
        session.syncSentNanos = System.nanoTime();
        JsonObject data = new JsonObject();
        data.addProperty("count", pool.count());
        data.addProperty("digest", digestOf(pool.bucketDigests()));
        send(neighbour, "SYNC", PeerNode.message("SYNC", data));
    }

    /** B's pool differs: list our ids in every bucket whose digest differs from B's. */
    private void receiveBuckets(Neighbour neighbour, Session session, JsonElement data) {
        if (!session.syncSent) {
            neighbour.log(WARNING, "ignored a SYNC_BUCKETS from " + neighbour + ": we sent no SYNC it could answer");
            return;
        }
        JsonArray theirs = data.isJsonObject() ? arrayOrNull(data.getAsJsonObject().get("buckets")) : null;
        if (theirs == null || theirs.size() != TransactionPool.BUCKETS) {
            neighbour.log(WARNING, "ignored a SYNC_BUCKETS from " + neighbour + ": expected {\"buckets\": [256 hex digests]}");
            return;
        }
        session.syncSent = false;
        long[] ours = pool.bucketDigests();
        List<Integer> buckets = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int bucket = 0; bucket < TransactionPool.BUCKETS; bucket++) {
            if (isString(theirs.get(bucket)) && theirs.get(bucket).getAsString().equals(hex(ours[bucket]))) {
                continue;
            }
            Set<String> inBucket = pool.idsInBucket(bucket);
            if (!ids.isEmpty() && ids.size() + inBucket.size() > MAX_IDS_PER_MESSAGE) {
                sendIds(neighbour, session, buckets, ids);
                buckets = new ArrayList<>();
                ids = new ArrayList<>();
            }
            buckets.add(bucket);
            ids.addAll(inBucket);
        }
        if (!buckets.isEmpty()) {
            sendIds(neighbour, session, buckets, ids);
        }
    }

    private void sendIds(Neighbour neighbour, Session session, List<Integer> buckets, List<String> ids) {
        session.offered.addAll(ids);
        JsonObject data = new JsonObject();
        data.add("buckets", gson.toJsonTree(buckets));
        data.add("ids", gson.toJsonTree(ids));
        send(neighbour, "SYNC_IDS", PeerNode.message("SYNC_IDS", data));
        log.log(INFO, "catch-up with " + neighbour + ": " + buckets.size() + " buckets differ; listed our " + ids.size() + " ids in them");
    }

    /** B lacks these: send each, once, if we offered it. */
    private void receiveWant(Neighbour neighbour, Session session, JsonElement data) {
        List<String> wanted = idList(neighbour, "SYNC_WANT", data, MAX_IDS_PER_MESSAGE);
        if (wanted == null) {
            return;
        }
        int sent = 0;
        try (TransactionPool.Reader reader = pool.reader()) {
            for (String id : wanted) {
                String transaction = session.offered.remove(id) ? reader.transactionJson(id) : null;
                if (transaction != null) {
                    if (!sendTransaction(neighbour, transaction)) {
                        break;
                    }
                    sent++;
                }
            }
        }
        if (sent < wanted.size()) {
            log.log(WARNING, "catch-up with " + neighbour + ": " + (wanted.size() - sent)
                    + " of the ids in its SYNC_WANT were not offered to it (or already sent); ignored them");
        }
        log.log(INFO, "catch-up with " + neighbour + ": sent the " + sent + " transactions it lacked");
    }

    // --- B's side: the one that answers -----------------------------------------------------

    /** A's summary: when it matches ours we are in sync and say nothing; else we show our buckets. */
    private void receiveSync(Neighbour neighbour, Session session, JsonElement data) {
        JsonObject summary = data.isJsonObject() ? data.getAsJsonObject() : null;
        if (summary == null || !isWholeNumber(summary.get("count")) || !isString(summary.get("digest"))) {
            neighbour.log(WARNING, "ignored a SYNC from " + neighbour + ": expected {\"count\": n, \"digest\": \"hex\"}");
            return;
        }
        long now = System.nanoTime();
        if (session.lastSyncNanos != 0 && (now - session.lastSyncNanos) / 1_000_000 < syncIntervalMs / 2) {
            neighbour.log(WARNING, "ignored a SYNC from " + neighbour + ": one per " + syncIntervalMs / 2 + " ms on a connection");
            return;
        }
        session.lastSyncNanos = now;
        long[] ours = pool.bucketDigests();
        int count = pool.count();
        if (summary.get("count").getAsLong() == count && summary.get("digest").getAsString().equals(digestOf(ours))) {
            log.log(INFO, "catch-up with " + neighbour + ": in sync at " + count + " transactions");
            return;
        }
        JsonArray buckets = new JsonArray();
        for (long digest : ours) {
            buckets.add(hex(digest));
        }
        JsonObject answer = new JsonObject();
        answer.add("buckets", buckets);
        session.bucketsSent = true;
        session.bucketsAnswered.clear();
        send(neighbour, "SYNC_BUCKETS", PeerNode.message("SYNC_BUCKETS", answer));
    }

    /** A's ids in some buckets: send what A lacks there, and ask for what we lack. */
    private void receiveIds(Neighbour neighbour, Session session, JsonElement data) {
        if (!session.bucketsSent) {
            neighbour.log(WARNING, "ignored a SYNC_IDS from " + neighbour + ": we sent no SYNC_BUCKETS it could answer");
            return;
        }
        JsonArray buckets = data.isJsonObject() ? arrayOrNull(data.getAsJsonObject().get("buckets")) : null;
        List<String> theirIds = idList(neighbour, "SYNC_IDS", data, MAX_IDS_PER_MESSAGE);
        if (buckets == null || theirIds == null) {
            return;
        }
        Set<Integer> listed = new HashSet<>();
        for (JsonElement bucket : buckets) {
            if (isWholeNumber(bucket) && bucket.getAsInt() >= 0 && bucket.getAsInt() < TransactionPool.BUCKETS
                    && session.bucketsAnswered.add(bucket.getAsInt())) {
                listed.add(bucket.getAsInt());
            }
        }
        Set<String> theirs = new HashSet<>();
        for (String id : theirIds) {
            if (listed.contains(TransactionPool.bucketOf(id))) {
                theirs.add(id);
            }
        }
        int sent = 0;
        try (TransactionPool.Reader reader = pool.reader()) {
            sending:
            for (int bucket : listed) {
                for (String id : pool.idsInBucket(bucket)) {
                    if (!theirs.contains(id)) {
                        String transaction = reader.transactionJson(id);
                        if (transaction != null && !sendTransaction(neighbour, transaction)) {
                            break sending;
                        }
                        sent++;
                    }
                }
            }
        }
        List<String> wanted = theirs.stream().filter(id -> !pool.contains(id)).toList();
        if (!wanted.isEmpty()) {
            JsonObject want = new JsonObject();
            want.add("ids", gson.toJsonTree(wanted));
            send(neighbour, "SYNC_WANT", PeerNode.message("SYNC_WANT", want));
        }
        log.log(INFO, "catch-up with " + neighbour + ": sent " + sent + " transactions it lacked, asked for the "
                + wanted.size() + " we lack");
    }

    /**
     * Sends one transaction the neighbour lacks, if its source's catch-up budget (bytes a
     * minute, CATCH_UP_BYTES_PER_MINUTE) still holds it; false when it does not. The budget is
     * the source's, not the connection's, so a stranger that reconnects to ask again and again
     * is served no more; the next catch-up, once the budget refills, sends the rest.
     */
    private boolean sendTransaction(Neighbour neighbour, String transactionJson) {
        String text = "{\"type\":\"TRANSACTION\",\"data\":" + transactionJson + "}";
        int bytes = OutgoingConnection.utf8Length(text);
        if (!neighbour.source.catchUpBytes.tryTake(bytes)) {
            neighbour.source.refused("catch-up past the budget");
            neighbour.log(WARNING, "catch-up with " + neighbour + ": its source's budget (CATCH_UP_BYTES_PER_MINUTE) is spent "
                    + "for now; sent no more");
            return false;
        }
        neighbour.source.served(bytes);
        send(neighbour, "TRANSACTION", text);
        return true;
    }

    /** Payload bytes of every catch-up message (and transaction) this node has sent: the cost of staying in sync. */
    long bytesSent() {
        return bytesSent.get();
    }

    private void send(Neighbour neighbour, String type, String text) {
        bytesSent.addAndGet(OutgoingConnection.utf8Length(text));
        neighbour.send(type, text);
        events.publish("out", type, neighbour.peer, null);
    }

    // --- shapes -----------------------------------------------------------------------------

    /** data.ids as a list of id strings, or null (logged) when it is not one or is longer than {@code max}. */
    static List<String> idList(Neighbour from, String type, JsonElement data, int max) {
        JsonArray ids = data.isJsonObject() ? arrayOrNull(data.getAsJsonObject().get("ids")) : null;
        if (ids == null || ids.size() > max) {
            from.log(WARNING, "ignored a " + type + " from " + from + ": expected {\"ids\": [at most "
                    + max + " id strings]}");
            return null;
        }
        List<String> list = new ArrayList<>(ids.size());
        for (JsonElement id : ids) {
            if (!isString(id) || id.getAsString().length() > TransactionId.MAX_LENGTH + 10) {
                from.log(WARNING, "ignored a " + type + " from " + from + ": " + PeerNode.abbreviate(id.toString())
                        + " is not an id");
                return null;
            }
            list.add(id.getAsString());
        }
        return list;
    }

    private static JsonArray arrayOrNull(JsonElement element) {
        return element != null && element.isJsonArray() ? element.getAsJsonArray() : null;
    }

    private static boolean isString(JsonElement element) {
        return element != null && element.isJsonPrimitive() && element.getAsJsonPrimitive().isString();
    }

    private static boolean isWholeNumber(JsonElement element) {
        return element != null && element.isJsonPrimitive() && element.getAsJsonPrimitive().isNumber()
                && element.toString().matches("[0-9]{1,10}");
    }

    /** The whole pool's digest: the XOR of its bucket digests. */
    private static String digestOf(long[] bucketDigests) {
        long digest = 0;
        for (long each : bucketDigests) {
            digest ^= each;
        }
        return hex(digest);
    }

    private static String hex(long digest) {
        return HexFormat.of().toHexDigits(digest);
    }
}
