package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import com.google.gson.JsonParser;

/** RFC 8785's own examples, each a test: the bytes a signer and a digest agree on. */
class CanonicalJsonTest {

    private static String canonical(String json) {
        return CanonicalJson.of(JsonParser.parseString(json));
    }

    /** Section 3.2.4: whitespace goes, keys are sorted, numbers and strings take their one spelling. */
    @Test
    void theRfcsMainExampleComesOutByteForByte() {
        String input = "{\n  \"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n"
                + "  \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
                + "  \"literals\": [null, true, false]\n}";
        assertEquals("{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
                + "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}", canonical(input));
    }

    /** Section 3.2.3: keys are sorted by their UTF-16 code units, a surrogate pair by its two. */
    @Test
    void keysAreSortedByUtf16CodeUnits() {
        String input = "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\","
                + "\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":\"Control\","
                + "\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}";
        assertEquals("{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\","
                + "\"\u00f6\":\"Latin Small Letter O With Diaeresis\",\"\u20ac\":\"Euro Sign\","
                + "\"\ud83d\ude00\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}", canonical(input));
    }

    /** Appendix B: IEEE 754 doubles, by their bits, and the text ECMAScript prints for each. */
    @Test
    void numbersArePrintedAsEcmaScriptPrintsThem() {
        String[][] table = {
            {"0000000000000000", "0"}, {"8000000000000000", "0"}, {"0000000000000001", "5e-324"},
            {"8000000000000001", "-5e-324"}, {"7fefffffffffffff", "1.7976931348623157e+308"},
            {"ffefffffffffffff", "-1.7976931348623157e+308"}, {"4340000000000000", "9007199254740992"},
            {"c340000000000000", "-9007199254740992"}, {"4430000000000000", "295147905179352830000"},
            {"44b52d02c7e14af5", "9.999999999999997e+22"}, {"44b52d02c7e14af6", "1e+23"},
            {"44b52d02c7e14af7", "1.0000000000000001e+23"}, {"444b1ae4d6e2ef4e", "999999999999999700000"},
            {"444b1ae4d6e2ef4f", "999999999999999900000"}, {"444b1ae4d6e2ef50", "1e+21"},
            {"3eb0c6f7a0b5ed8c", "9.999999999999997e-7"}, {"3eb0c6f7a0b5ed8d", "0.000001"},
            {"41b3de4355555553", "333333333.3333332"}, {"41b3de4355555554", "333333333.33333325"},
            {"41b3de4355555555", "333333333.3333333"}, {"41b3de4355555556", "333333333.3333334"},
            {"41b3de4355555557", "333333333.33333343"}, {"becbf647612f3696", "-0.0000033333333333333333"},
            {"43143ff3c1cb0959", "1424953923781206.2"},
        };
        for (String[] row : table) {
            double value = Double.longBitsToDouble(Long.parseUnsignedLong(row[0], 16));
            assertEquals(row[1], CanonicalJson.number(value), row[0]);
        }
        assertThrows(IllegalArgumentException.class, () -> CanonicalJson.number(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> CanonicalJson.number(Double.POSITIVE_INFINITY));
    }

    /** A lone surrogate is not Unicode text (RFC 3629): it has no canonical form, and the reason says where. */
    @Test
    void aLoneSurrogateHasNoCanonicalFormAndTheReasonSaysSo() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> canonical("{\"id\":\"ok\\ud800\"}"));
        assertEquals("it is not Unicode text: a lone surrogate \\ud800 at character 2 of a string (RFC 3629)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> canonical("{\"\\udc00\":1}"), "in a key too");
        assertTrue(canonical("{\"a\":\"\\ud83d\\ude00\"}").contains("\ud83d\ude00"), "a pair is one character");
    }
}
