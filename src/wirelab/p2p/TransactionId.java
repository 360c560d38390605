package wirelab.p2p;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * The one rule for which transaction is which: every node that sees a transaction derives the
 * same id from it, without changing it. (A node that added an id field as it passed a
 * transaction on would make curriculum nodes, which compare transactions by content, store it
 * again; and two nodes that each made up a random id for one transaction would each store it
 * twice.) So the id is, in this order:
 *
 * <ol>
 * <li>its {@code id} field: a string of 1 to 200 characters, or a whole number. The string
 *     "1" and the number 1 are different ids; {@code true}, {@code null}, objects, arrays and
 *     numbers with a fraction are refused.
 * <li>else its {@code hash} field, when it is such a string (the curriculum's transactions
 *     carry one);
 * <li>else the SHA-256 of its canonical JSON: keys sorted at every level, no spaces.
 * </ol>
 *
 * The id is written as JSON text, so the four kinds (a string id, a number id, a hash, a
 * digest) never collide: {@code "tx-1"} (with its
 * quotes), {@code 42}, {@code hash:...}, {@code sha256:...}. {@code add-transaction.sh} gives
 * each new transaction a random UUID as its id, so two genuine transactions with equal content
 * stay two.
 */
final class TransactionId {

    static final int MAX_LENGTH = 200;

    private static final Gson gson = new GsonBuilder().disableHtmlEscaping().create();

    private TransactionId() {
    }

    /** The transaction's id by the rule above; an IllegalArgumentException says why it has none we accept. */
    static String of(JsonObject transaction) {
        JsonElement id = transaction.get("id");
        if (id != null) {
            if (id.isJsonPrimitive() && id.getAsJsonPrimitive().isString()
                    && !id.getAsString().isEmpty() && id.getAsString().length() <= MAX_LENGTH) {
                return quoted(id.getAsString());
            }
            if (id.isJsonPrimitive() && id.getAsJsonPrimitive().isNumber() && id.toString().matches("-?[0-9]{1," + MAX_LENGTH + "}")) {
                return id.toString();
            }
            throw new IllegalArgumentException("its id must be a string of 1 to " + MAX_LENGTH
                    + " characters or a whole number, got " + PeerNode.abbreviate(id.toString()));
        }
        JsonElement hash = transaction.get("hash");
        if (hash != null && hash.isJsonPrimitive() && hash.getAsJsonPrimitive().isString()
                && !hash.getAsString().isEmpty() && hash.getAsString().length() <= MAX_LENGTH) {
            return "hash:" + hash.getAsString();
        }
        return "sha256:" + HexFormat.of().formatHex(sha256(gson.toJson(canonical(transaction))));
    }

    /** A string as JSON writes it; most ids need no escaping, and skip gson's writer (measured: 1 in 10 samples of a mesh). */
    private static String quoted(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\' || c > 0x7E) {
                return gson.toJson(text);
            }
        }
        return '"' + text + '"';
    }

    /** The same JSON with every object's keys in sorted order, so that equal content prints equal. */
    private static JsonElement canonical(JsonElement element) {
        if (element.isJsonObject()) {
            Map<String, JsonElement> sorted = new TreeMap<>(element.getAsJsonObject().asMap());
            JsonObject object = new JsonObject();
            sorted.forEach((key, value) -> object.add(key, canonical(value)));
            return object;
        }
        if (element.isJsonArray()) {
            JsonArray array = new JsonArray();
            element.getAsJsonArray().forEach(item -> array.add(canonical(item)));
            return array;
        }
        return element;   // strings, numbers and null print the same wherever they stand
    }

    static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
