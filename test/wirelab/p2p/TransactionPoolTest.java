package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonParser;

class TransactionPoolTest {

    @TempDir
    Path dir;

    @Test
    void appendsOneTransactionALineAndTheFileIsAlwaysAJsonArray() throws IOException {
        Path file = dir.resolve("transactions.json");
        TransactionPool pool = TransactionPool.load(file);
        assertEquals("[\n]\n", Files.readString(file));
        assertTrue(pool.store("\"a\"", "{\"id\":\"a\"}"));
        assertEquals("[\n{\"id\":\"a\"}\n]\n", Files.readString(file));
        assertTrue(pool.store("\"b\"", "{\"id\":\"b\",\"memo\":\"two\\nlines\"}"));
        assertFalse(pool.store("\"a\"", "{\"id\":\"a\"}"), "an id already stored is refused");
        assertEquals("[\n{\"id\":\"a\"},\n{\"id\":\"b\",\"memo\":\"two\\nlines\"}\n]\n", Files.readString(file));
        assertEquals(2, JsonParser.parseString(Files.readString(file)).getAsJsonArray().size());
        assertEquals(2, TransactionPool.load(file).count());
    }

    @Test
    void anAppendCutShortByACrashIsRepairedOnLoadKeepingEveryWholeLine() throws IOException {
        Path file = dir.resolve("transactions.json");
        // what a SIGKILL in the middle of the third append leaves: two whole lines, half a third, no bracket
        Files.writeString(file, "[\n{\"id\":\"a\"},\n{\"id\":\"b\"},\n{\"id\":\"c\",\"amou");
        TransactionPool pool = TransactionPool.load(file);
        assertEquals(List.of("a", "b"), pool.transactions().stream().map(t -> t.get("id").getAsString()).toList());
        assertEquals("[\n{\"id\":\"a\"},\n{\"id\":\"b\"}\n]\n", Files.readString(file), "written back whole");
        assertTrue(pool.store("\"c\"", "{\"id\":\"c\"}"));
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
            one.store("\"" + i + "\"", "{\"id\":\"" + i + "\"}");
            two.store("\"" + (99 - i) + "\"", "{\"id\":\"" + (99 - i) + "\"}");
        }
        assertTrue(java.util.Arrays.equals(one.bucketDigests(), two.bucketDigests()));
        two.store("\"extra\"", "{\"id\":\"extra\"}");
        assertFalse(java.util.Arrays.equals(one.bucketDigests(), two.bucketDigests()));
    }
}
