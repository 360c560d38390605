package wirelab.p2p;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import wirelab.Text;

/**
 * The gossip wire: every message between nodes is one WebSocket text message holding one JSON
 * object, {@code {"type": ..., "data": ...}}. This file states every type once, builds each one,
 * and reads each one's data; the file in the last column acts on it. A curriculum node speaks
 * the first two types only, and is never sent the others.
 *
 * <pre>
 * | type         | data                                   | sent by                     | the receiver                                       | acts in       |
 * |--------------|----------------------------------------|-----------------------------|----------------------------------------------------|---------------|
 * | HANDSHAKE    | ["ws://host:port", ...]: the addresses | every node, first on each   | learns the addresses and dials some; on a          | Membership    |
 * |              | it is connected to, its own last (ours:| connection it opens; ours   | connection a peer opened, takes it as a neighbour  |               |
 * |              | its neighbours too: peer exchange)     | also in answer to one       | or refuses it (1013), dials a curriculum node back |               |
 * | TRANSACTION  | {the transaction}; "repair": true      | every node, and users       | checks it, stores it once, passes it on            | Inbox,        |
 * |              | beside type and data when it answers a | (add-transaction.sh, the    |                                                    | BroadcastTree |
 * |              | GRAFT or a catch-up                    | live view)                  |                                                    |               |
 * | IHAVE        | {"ids": [digests]}: stored lately      | ours, to lazy links         | awaits the ones it lacks; GRAFTs them if late      | BroadcastTree |
 * | GRAFT        | {"ids": [digests]}, maybe none         | ours                        | makes the link eager; sends those transactions     | BroadcastTree |
 * | PRUNE        | {}                                     | ours, on a second copy      | makes the link lazy                                | BroadcastTree |
 * | SYNC         | {"count": n, "digest": hex}            | ours, catch-up's first step | in sync: nothing; else answers SYNC_BUCKETS        | CatchUp       |
 * | SYNC_BUCKETS | {"buckets": [256 hex digests]}         | ours, answering a SYNC      | lists its ids where buckets differ: SYNC_IDS       | CatchUp       |
 * | SYNC_IDS     | {"buckets": [n, ...], "ids": [digests]}| ours, answering SYNC_BUCKETS| sends what the other lacks there; asks SYNC_WANT   | CatchUp       |
 * | SYNC_WANT    | {"ids": [digests]}                     | ours, answering SYNC_IDS    | sends those transactions, if it offered them       | CatchUp       |
 * </pre>
 *
 * A digest names a transaction by its content: 32 lower-case hex digits ({@link TransactionDigest}).
 * A type this node does not speak is passed by, as the curriculum's nodes do, so that a newer
 * node may add one.
 */
final class Message {

    /** The types, as the wire spells them. */
    enum Type {
        HANDSHAKE, TRANSACTION, IHAVE, GRAFT, PRUNE, SYNC, SYNC_BUCKETS, SYNC_IDS, SYNC_WANT;

        /** The type the wire names {@code name}, or null when this node does not speak it. */
        static Type named(String name) {
            for (Type type : values()) {
                if (type.name().equals(name)) {
                    return type;
                }
            }
            return null;
        }
    }

    /** An IHAVE or GRAFT names at most this many ids: a round of announcements, in parts if it has more. */
    static final int MAX_TREE_IDS = 1_000;
    /** A SYNC_IDS or SYNC_WANT lists at most this many ids: 25,000 of 35 bytes fit a 1 MiB message. */
    static final int MAX_CATCH_UP_IDS = 25_000;
    /** SYNC_BUCKETS lists one digest for each of the pool's buckets, in bucket order. */
    static final int BUCKETS = PoolIndex.BUCKETS;

    private static final Gson gson = new GsonBuilder().disableHtmlEscaping().create();

    private Message() {
    }

    /** A data or message shape this node cannot use: says what was expected and what came. */
    static final class Malformed extends Exception {
        private static final long serialVersionUID = 1L;

        Malformed(String expected, JsonElement got) {
            this(expected, String.valueOf(got));
        }

        Malformed(String expected, String got) {
            super("expected " + expected + ", got " + Text.abbreviate(got));
        }
    }

    // --- building ---------------------------------------------------------------------------------

    static String handshake(List<String> addresses) {
        JsonArray data = new JsonArray();
        addresses.forEach(data::add);
        return of(Type.HANDSHAKE, data);
    }

    /**
     * {@code {"type":"TRANSACTION","data":<the transaction>}}, with {@code "repair":true} beside
     * them for a repair (a GRAFT's answer, catch-up, or one passed on after either). A node of
     * ours never prunes a link for a repair's duplicate: repairs arrive late by nature, and a
     * copy that crosses one is not a cycle in the tree. Curriculum nodes are sent the plain form
     * (they would ignore the field, and pass it on). Built as text: the transaction is already
     * JSON text, as checked or as read from the pool.
     */
    static String transaction(String transactionJson, boolean repair) {
        return "{\"type\":\"TRANSACTION\",\"data\":" + transactionJson + (repair ? ",\"repair\":true}" : "}");
    }

    /** An IHAVE, GRAFT or SYNC_WANT: {@code {"ids": [...]}}. */
    static String ids(Type type, List<TransactionDigest> ids) {
        JsonArray list = new JsonArray();
        ids.forEach(id -> list.add(id.toString()));
        JsonObject data = new JsonObject();
        data.add("ids", list);
        return of(type, data);
    }

    static String prune() {
        return of(Type.PRUNE, new JsonObject());
    }

    /** The pool in a count and a digest: the XOR of its bucket digests. */
    static String sync(int count, long[] bucketDigests) {
        JsonObject data = new JsonObject();
        data.addProperty("count", count);
        data.addProperty("digest", hex(poolDigest(bucketDigests)));
        return of(Type.SYNC, data);
    }

    static String syncBuckets(long[] bucketDigests) {
        JsonArray buckets = new JsonArray();
        for (long digest : bucketDigests) {
            buckets.add(hex(digest));
        }
        JsonObject data = new JsonObject();
        data.add("buckets", buckets);
        return of(Type.SYNC_BUCKETS, data);
    }

    static String syncIds(List<Integer> buckets, List<TransactionDigest> ids) {
        JsonArray listed = new JsonArray();
        buckets.forEach(listed::add);
        JsonArray list = new JsonArray();
        ids.forEach(id -> list.add(id.toString()));
        JsonObject data = new JsonObject();
        data.add("buckets", listed);
        data.add("ids", list);
        return of(Type.SYNC_IDS, data);
    }

    private static String of(Type type, JsonElement data) {
        JsonObject message = new JsonObject();
        message.addProperty("type", type.name());
        message.add("data", data);
        return gson.toJson(message);
    }

    // --- reading ----------------------------------------------------------------------------------

    /**
     * A message as it came: its type (null when this node does not speak it), the type's name
     * as it came (for logs and counts), its data (JSON null when it had none), and whether it
     * is marked as a repair.
     */
    record Received(Type type, String typeName, JsonElement data, boolean repair) {
    }

    static Received parse(String text) throws Malformed {
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(text);
        } catch (JsonParseException e) {
            throw new Malformed("a JSON object", text);
        }
        if (!parsed.isJsonObject()) {
            throw new Malformed("a JSON object", text);
        }
        JsonObject message = parsed.getAsJsonObject();
        JsonElement type = message.get("type");
        String typeName = type != null && type.isJsonPrimitive() ? type.getAsString() : String.valueOf(type);
        JsonElement repair = message.get("repair");
        return new Received(Type.named(typeName), typeName, message.has("data") ? message.get("data") : JsonNull.INSTANCE,
                repair != null && repair.isJsonPrimitive() && repair.getAsJsonPrimitive().isBoolean() && repair.getAsBoolean());
    }

    /** A HANDSHAKE's data: the list of addresses (each one is checked by who learns it). */
    static JsonArray addresses(JsonElement data) throws Malformed {
        if (!data.isJsonArray()) {
            throw new Malformed("an array of addresses", data);
        }
        return data.getAsJsonArray();
    }

    /** A TRANSACTION's data: the transaction object. */
    static JsonObject transaction(JsonElement data) throws Malformed {
        if (!data.isJsonObject()) {
            throw new Malformed("an object", data);
        }
        return data.getAsJsonObject();
    }

    /** data.ids of an IHAVE, GRAFT, SYNC_IDS or SYNC_WANT: at most {@code max} transaction digests. */
    static List<TransactionDigest> ids(JsonElement data, int max) throws Malformed {
        JsonArray ids = data.isJsonObject() ? arrayOrNull(data.getAsJsonObject().get("ids")) : null;
        if (ids == null || ids.size() > max) {
            throw new Malformed("{\"ids\": [at most " + max + " transaction digests]}", data);
        }
        List<TransactionDigest> list = new ArrayList<>(ids.size());
        for (JsonElement id : ids) {
            TransactionDigest digest = isString(id) ? TransactionDigest.parse(id.getAsString()) : null;
            if (digest == null) {
                throw new Malformed("transaction digests (32 lower-case hex digits)", id);
            }
            list.add(digest);
        }
        return list;
    }

    /** A SYNC's data: the other pool's count and digest. */
    record Sync(long count, String digest) {
        /** True when this pool, in its count and bucket digests, is the same as the other. */
        boolean matches(int count, long[] bucketDigests) {
            return this.count == count && digest.equals(hex(poolDigest(bucketDigests)));
        }
    }

    static Sync sync(JsonElement data) throws Malformed {
        JsonObject summary = data.isJsonObject() ? data.getAsJsonObject() : null;
        if (summary == null || !isWholeNumber(summary.get("count")) || !isString(summary.get("digest"))) {
            throw new Malformed("{\"count\": n, \"digest\": \"hex\"}", data);
        }
        return new Sync(summary.get("count").getAsLong(), summary.get("digest").getAsString());
    }

    /** A SYNC_BUCKETS' data: the buckets, in order, whose digests differ from {@code ours}. */
    static List<Integer> differingBuckets(JsonElement data, long[] ours) throws Malformed {
        JsonArray theirs = data.isJsonObject() ? arrayOrNull(data.getAsJsonObject().get("buckets")) : null;
        if (theirs == null || theirs.size() != BUCKETS) {
            throw new Malformed("{\"buckets\": [" + BUCKETS + " hex digests]}", data);
        }
        List<Integer> differing = new ArrayList<>();
        for (int bucket = 0; bucket < BUCKETS; bucket++) {
            if (!isString(theirs.get(bucket)) || !theirs.get(bucket).getAsString().equals(hex(ours[bucket]))) {
                differing.add(bucket);
            }
        }
        return differing;
    }

    /** A SYNC_IDS' data: the buckets it lists (numbers out of range are passed by), and its ids. */
    record SyncIds(List<Integer> buckets, List<TransactionDigest> ids) {
    }

    static SyncIds syncIds(JsonElement data) throws Malformed {
        JsonArray buckets = data.isJsonObject() ? arrayOrNull(data.getAsJsonObject().get("buckets")) : null;
        if (buckets == null || buckets.size() > BUCKETS) {
            throw new Malformed("{\"buckets\": [at most " + BUCKETS + " numbers], \"ids\": [...]}", data);
        }
        Set<Integer> listed = new HashSet<>();
        List<Integer> inOrder = new ArrayList<>();
        for (JsonElement bucket : buckets) {
            if (isWholeNumber(bucket) && bucket.getAsInt() >= 0 && bucket.getAsInt() < BUCKETS && listed.add(bucket.getAsInt())) {
                inOrder.add(bucket.getAsInt());
            }
        }
        return new SyncIds(inOrder, ids(data, MAX_CATCH_UP_IDS));
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

    private static long poolDigest(long[] bucketDigests) {
        long digest = 0;
        for (long each : bucketDigests) {
            digest ^= each;
        }
        return digest;
    }

    private static String hex(long digest) {
        return HexFormat.of().toHexDigits(digest);
    }
}
