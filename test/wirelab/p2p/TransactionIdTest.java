package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

class TransactionIdTest {

    private static String idOf(String json) {
        return TransactionId.of(JsonParser.parseString(json).getAsJsonObject());
    }

    @Test
    void theIdFieldWinsAndAStringAndANumberAreDifferentIds() {
        assertEquals("\"tx-1\"", idOf("{\"id\":\"tx-1\",\"hash\":\"h\"}"));
        assertEquals("1", idOf("{\"id\":1}"));
        assertNotEquals(idOf("{\"id\":1}"), idOf("{\"id\":\"1\"}"));
    }

    @Test
    void idsThatAreNotAStringOrAWholeNumberAreRefusedWithTheReason() {
        for (String bad : new String[] {"true", "null", "{\"a\":1}", "[1]", "1.5", "\"\"", "\"" + "x".repeat(201) + "\""}) {
            JsonObject transaction = JsonParser.parseString("{\"id\":" + bad + "}").getAsJsonObject();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TransactionId.of(transaction), bad);
            assertEquals(true, e.getMessage().startsWith("its id must be a string of 1 to 200 characters or a whole number"),
                    e.getMessage());
        }
    }

    @Test
    void withoutAnIdTheCurriculumsHashElseTheContentDecidesTheSameEverywhere() {
        assertEquals("hash:abc", idOf("{\"hash\":\"abc\",\"amount\":1}"));
        String one = idOf("{\"from\":\"a\",\"to\":\"b\",\"amount\":5,\"meta\":{\"y\":1,\"x\":2}}");
        String sameContentOtherOrder = idOf("{ \"amount\": 5, \"meta\": {\"x\": 2, \"y\": 1}, \"to\": \"b\", \"from\": \"a\" }");
        assertEquals(one, sameContentOtherOrder);
        assertEquals(true, one.startsWith("sha256:"));
        assertNotEquals(one, idOf("{\"from\":\"a\",\"to\":\"b\",\"amount\":6,\"meta\":{\"y\":1,\"x\":2}}"));
    }
}
