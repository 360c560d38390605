package wirelab.p2p;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import wirelab.Text;

/**
 * What people call a transaction: the name shown in logs, the live view and answers. It is not
 * what the pool and the wire know it by: that is its content's digest
 * ({@link TransactionDigest}), so a name can never make one transaction stand for another. The
 * name is, in this order:
 *
 * <ol>
 * <li>its {@code id} field: a string of 1 to 200 characters, or a whole number. The string
 *     "1" and the number 1 are different names; {@code true}, {@code null}, objects, arrays and
 *     numbers with a fraction are refused, and so is the transaction that carries one (no node
 *     stores it).
 * <li>else its {@code hash} field, when it is such a string (the curriculum's transactions
 *     carry one);
 * <li>else {@code sha256:} and its digest.
 * </ol>
 *
 * The name is written as JSON text, so the kinds never collide: {@code "tx-1"} (with its
 * quotes), {@code 42}, {@code hash:...}, {@code sha256:...}. {@code add-transaction.sh} gives
 * each new transaction a random UUID as its id, so two genuine transactions with equal content
 * stay two: their contents differ in that field.
 */
final class TransactionId {

    static final int MAX_LENGTH = 200;

    private static final Gson gson = new GsonBuilder().disableHtmlEscaping().create();

    private TransactionId() {
    }

    /** The transaction's name by the rule above; an IllegalArgumentException says why it has none we accept. */
    static String of(JsonObject transaction) {
        return of(transaction, TransactionDigest.of(transaction));
    }

    /** The same, for a transaction whose digest is known already (no second hash for a name by digest). */
    static String of(JsonObject transaction, TransactionDigest digest) {
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
                    + " characters or a whole number, got " + Text.abbreviate(id.toString()));
        }
        JsonElement hash = transaction.get("hash");
        if (hash != null && hash.isJsonPrimitive() && hash.getAsJsonPrimitive().isString()
                && !hash.getAsString().isEmpty() && hash.getAsString().length() <= MAX_LENGTH) {
            return "hash:" + hash.getAsString();
        }
        return "sha256:" + digest;
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
}
