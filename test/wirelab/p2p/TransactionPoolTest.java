package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonParser;

class TransactionPoolTest {

    @TempDir
    Path dir;

    @Test
    @Timeout(30)
    void aPoolPrettyPrintedByHandIsReadWholeNotTakenForACrash() throws Exception {
        Path file = dir.resolve("transactions.json");
        Files.writeString(file, "[\n  {\n    \"id\": \"x\",\n    \"amount\": 2\n  },\n  {\"id\": \"y\"}\n]\n");
        TransactionPool pool = TransactionPool.load(file);
        assertEquals(2, pool.count());
        assertEquals("[\n{\"id\":\"x\",\"amount\":2},\n{\"id\":\"y\"}\n]\n", Files.readString(file));
        assertEquals("{\"id\":\"x\",\"amount\":2}", pool.transactionJson(digest("{\"id\":\"x\",\"amount\":2}")), "read back from the file");
        pool.close();
    }

    @Test
    @Timeout(30)
    void aFileHoldingOneIdTwiceIsReadAsOneTransactionWrittenBackOnceAndCountedOnceInItsDigest() throws Exception {
        Path file = dir.resolve("transactions.json");
        Files.writeString(file, "[\n{\"id\":\"a\",\"amount\":1},\n{\"id\":\"b\"},\n{\"id\":\"a\",\"amount\":1}\n]\n");
        TransactionPool pool = TransactionPool.load(file);
        assertEquals(2, pool.count());
        assertEquals("[\n{\"id\":\"a\",\"amount\":1},\n{\"id\":\"b\"}\n]\n", Files.readString(file));
        Path other = dir.resolve("other.json");
        Files.writeString(other, "[\n{\"id\":\"a\",\"amount\":1},\n{\"id\":\"b\"}\n]\n");
        TransactionPool clean = TransactionPool.load(other);
        assertTrue(java.util.Arrays.equals(clean.bucketDigests(), pool.bucketDigests()), "the digest counts the id once");
        assertTrue(java.util.Arrays.stream(pool.bucketDigests()).filter(d -> d != 0).count() >= 1,
                "and does count it: the digest is not that of an empty pool");
        pool.close();
        clean.close();
    }

    @Test
    void appendsOneTransactionALineAndTheFileIsAlwaysAJsonArray() throws IOException {
        Path file = dir.resolve("transactions.json");
        TransactionPool pool = TransactionPool.load(file);
        assertEquals("[\n]\n", Files.readString(file));
        assertTrue(store(pool, "{\"id\":\"a\"}"));
        assertEquals("[\n{\"id\":\"a\"}\n]\n", Files.readString(file));
        assertTrue(store(pool, "{\"id\":\"b\",\"memo\":\"two\\nlines\"}"));
        assertFalse(store(pool, "{\"id\":\"a\"}"), "an id already stored is refused");
        assertEquals("[\n{\"id\":\"a\"},\n{\"id\":\"b\",\"memo\":\"two\\nlines\"}\n]\n", Files.readString(file));
        assertEquals(2, JsonParser.parseString(Files.readString(file)).getAsJsonArray().size());
        assertEquals(2, TransactionPool.load(file).count());
    }

    @Test
    @Timeout(30)
    void aFailedAppendForgetsItsTransactionsSoALaterCopyIsStored() throws Exception {
        Path file = dir.resolve("transactions.json");
        TransactionPool pool = TransactionPool.load(file);
        assertTrue(store(pool, "{\"id\":\"a\"}"));
        String before = Files.readString(file);
        Files.delete(file);
        Files.createDirectory(file);   // the next append cannot open the file
        ExecutionException failure = assertThrows(ExecutionException.class,
                () -> pool.add(digest("{\"id\":\"b\"}"), "{\"id\":\"b\"}").get(10, TimeUnit.SECONDS));
        assertTrue(failure.getCause().getMessage().startsWith("cannot write " + file), failure.getCause().getMessage());
        assertFalse(pool.contains(digest("{\"id\":\"b\"}")), "not on disk, so not stored");
        assertEquals(1, pool.count());
        Files.delete(file);
        Files.writeString(file, before);
        assertTrue(store(pool, "{\"id\":\"b\"}"), "a later copy is stored");
        assertEquals(List.of("a", "b"), TransactionPool.load(file).transactions().stream().map(t -> t.get("id").getAsString()).toList());
    }

    @Test
    @Timeout(30)
    void closingWritesEveryTransactionAlreadyAddedBeforeTheWriterEnds() throws Exception {
        Path file = dir.resolve("transactions.json");
        TransactionPool pool = TransactionPool.load(file);
        List<CompletableFuture<Void>> onDisk = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {   // added faster than one fsync each: most still wait when close() comes
            onDisk.add(pool.add(digest("{\"id\":\"t" + i + "\"}"), "{\"id\":\"t" + i + "\"}"));
        }
        pool.close();
        for (CompletableFuture<Void> each : onDisk) {
            assertTrue(each.isDone() && !each.isCompletedExceptionally(), "every accepted transaction reached the disk");
        }
        assertEquals(2_000, JsonParser.parseString(Files.readString(file)).getAsJsonArray().size());
        assertEquals(2_000, TransactionPool.load(file).count());
        assertTrue(pool.add(digest("{\"id\":\"late\"}"), "{\"id\":\"late\"}").isCompletedExceptionally(), "a closed pool stores nothing more");
    }

    @Test
    void anAppendCutShortByACrashIsRepairedOnLoadKeepingEveryWholeLine() throws IOException {
        Path file = dir.resolve("transactions.json");
        // what a SIGKILL in the middle of the third append leaves: two whole lines, half a third, no bracket
        Files.writeString(file, "[\n{\"id\":\"a\"},\n{\"id\":\"b\"},\n{\"id\":\"c\",\"amou");
        TransactionPool pool = TransactionPool.load(file);
        assertEquals(List.of("a", "b"), pool.transactions().stream().map(t -> t.get("id").getAsString()).toList());
        assertEquals("[\n{\"id\":\"a\"},\n{\"id\":\"b\"}\n]\n", Files.readString(file), "written back whole");
        assertTrue(store(pool, "{\"id\":\"c\"}"));
        assertEquals(3, JsonParser.parseString(Files.readString(file)).getAsJsonArray().size());
    }

    @Test
    void aFileWrittenByHandIsReadAndRewrittenOneTransactionALine() throws IOException {
        Path file = dir.resolve("transactions.json");
        Files.writeString(file, "[ {\"id\": \"a\"},\n\n   {\"amount\": 1} ]");
        TransactionPool pool = TransactionPool.load(file);
        assertEquals(2, pool.count());
        assertEquals("[\n{\"id\":\"a\"},\n{\"amount\":1}\n]\n", Files.readString(file));
    }

    @Test
    void aFileThatIsNotOursIsAClearErrorNotARepair() throws IOException {
        Path file = dir.resolve("transactions.json");
        Files.writeString(file, "{\"not\": \"an array\"");
        IOException e = assertThrows(IOException.class, () -> TransactionPool.load(file));
        assertTrue(e.getMessage().contains("not a pool this node wrote"), e.getMessage());
        assertEquals("{\"not\": \"an array\"", Files.readString(file), "left as it was");
    }

    @Test
    void poolsWithTheSameIdsHaveTheSameDigestsWhateverTheOrder() throws IOException {
        TransactionPool one = TransactionPool.load(dir.resolve("one.json"));
        TransactionPool two = TransactionPool.load(dir.resolve("two.json"));
        for (int i = 0; i < 100; i++) {
            store(one, "{\"id\":\"" + i + "\"}");
            store(two, "{\"id\":\"" + (99 - i) + "\"}");
        }
        assertTrue(java.util.Arrays.equals(one.bucketDigests(), two.bucketDigests()));
        store(two, "{\"id\":\"extra\"}");
        assertFalse(java.util.Arrays.equals(one.bucketDigests(), two.bucketDigests()));
    }

    /** The digest the pool keys a transaction by. */
    private static TransactionDigest digest(String json) {
        return TransactionDigest.of(JsonParser.parseString(json).getAsJsonObject());
    }

    /** Adds the transaction and waits until it is on disk; false if it was already in the pool. */
    private static boolean store(TransactionPool pool, String json) {
        try {
            CompletableFuture<Void> onDisk = pool.add(digest(json), json);
            if (onDisk == null) {
                return false;
            }
            onDisk.get(10, TimeUnit.SECONDS);
            return true;
        } catch (Exception e) {
            throw new AssertionError("storing " + json + " failed: " + e, e);
        }
    }
}
