package wirelab.p2p;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import wirelab.AtomicFile;

/**
 * A node's transaction pool: every transaction it stored, in the order it stored them, kept in
 * {@code transactions.json} as a JSON array, one transaction a line. {@link PeerNode} decides
 * what to store; this file makes "stored" mean something:
 *
 * <ul>
 * <li>each transaction's {@code id} is stored once, even across restarts, since the ids are read
 *     back from the file;
 * <li>a transaction counts as stored only once the file holding it is on disk;
 * <li>the file is rewritten whole through {@link AtomicFile} (temp file, fsync, atomic rename),
 *     so a node killed at any moment leaves valid JSON.
 * </ul>
 */
final class TransactionPool {

    private static final Gson gson = new Gson();

    private final Path file;
    /** Each transaction as its JSON text, serialized once when it arrives: writing the file only joins them. */
    private final List<String> transactions = new ArrayList<>();
    private final Set<String> ids = new HashSet<>();
    private int storedCount;   // the first storedCount transactions are on disk
    private final ReentrantLock poolLock = new ReentrantLock();
    private final ReentrantLock fileLock = new ReentrantLock();

    private TransactionPool(Path file) {
        this.file = file;
    }

    /** The pool in {@code file}, or an empty one when there is no file yet. */
    static TransactionPool load(Path file) throws IOException {
        TransactionPool pool = new TransactionPool(file);
        if (!Files.exists(file)) {
            return pool;
        }
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(Files.readString(file));
        } catch (JsonParseException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (parsed.isJsonNull()) {
            return pool;   // an empty file
        }
        if (!parsed.isJsonArray()) {
            throw new IOException(file + " must hold a JSON array of transactions");
        }
        for (JsonElement element : parsed.getAsJsonArray()) {
            if (element.isJsonObject()) {
                JsonObject transaction = element.getAsJsonObject();
                pool.transactions.add(gson.toJson(transaction));
                JsonElement id = transaction.get("id");
                if (id != null && id.isJsonPrimitive()) {
                    pool.ids.add(id.getAsString());
                }
            }
        }
        pool.storedCount = pool.transactions.size();
        return pool;
    }

    /**
     * Adds the transaction and returns once the file holding it is on disk; false if its id is
     * already in the pool. Transactions that arrive while one write is under way share the
     * next write, so a burst costs a few writes, not one each.
     */
    boolean store(String id, JsonObject transaction) {
        String transactionJson = gson.toJson(transaction);
        int position;
        poolLock.lock();
        try {
            if (!ids.add(id)) {
                return false;
            }
            transactions.add(transactionJson);
            position = transactions.size();
        } finally {
            poolLock.unlock();
        }
        fileLock.lock();
        try {
            String json;
            int count;
            poolLock.lock();
            try {
                if (storedCount >= position) {
                    return true;   // the write before ours, which waited for the file, took ours along
                }
                json = "[\n" + String.join(",\n", transactions) + "\n]\n";
                count = transactions.size();
            } finally {
                poolLock.unlock();
            }
            AtomicFile.write(file, out -> out.write(json.getBytes(StandardCharsets.UTF_8)));
            poolLock.lock();
            try {
                storedCount = count;
            } finally {
                poolLock.unlock();
            }
            return true;
        } catch (IOException e) {
            poolLock.lock();
            try {   // not on disk, so not stored: a later copy of it may try again
                transactions.remove(transactionJson);
                ids.remove(id);
            } finally {
                poolLock.unlock();
            }
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            fileLock.unlock();
        }
    }

    /** The stored transactions, in the order they were stored. */
    List<JsonObject> transactions() {
        poolLock.lock();
        try {
            return transactions.subList(0, storedCount).stream().map(t -> JsonParser.parseString(t).getAsJsonObject()).toList();
        } finally {
            poolLock.unlock();
        }
    }

    int count() {
        poolLock.lock();
        try {
            return storedCount;
        } finally {
            poolLock.unlock();
        }
    }
}
