package wirelab.p2p;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.JsonElement;
import com.google.gson.JsonPrimitive;

/**
 * The one text of a JSON value that every implementation agrees on: RFC 8785, the JSON
 * Canonicalization Scheme (JCS). A transaction's digest ({@link TransactionDigest}) and its
 * signature are taken over these bytes, so two nodes, or a node and a wallet written in another
 * language, that hold the same content compute the same bytes, whatever spacing, key order or
 * number spelling the text came in.
 *
 * <pre>
 * objects   keys sorted by their UTF-16 code units (3.2.3), no whitespace anywhere
 * strings   only " \ and U+0000..U+001F escaped: \b \t \n \f \r, else backslash, u, 00 and two
 *           lower-case hex digits;
 *           every other character as itself, in UTF-8 (3.2.2.2)
 * numbers   as ECMAScript's Number.prototype.toString prints the IEEE 754 double (3.2.2.3):
 *           1.0 -> 1, 1e21 -> 1e+21, 0.000001 -> 0.000001, 1e-7 -> 1e-7, -0 -> 0
 * literals  true, false, null
 * </pre>
 *
 * Text that is not Unicode cannot be canonical: a string holding a lone UTF-16 surrogate (JSON
 * lets one be written as an escape, backslash-u-d800; RFC 3629 says no UTF-8 encodes it) is refused with an
 * {@link IllegalArgumentException} that names it. A node refuses such a transaction rather
 * than store bytes that would not read back as they came.
 */
final class CanonicalJson {

    private CanonicalJson() {
    }

    /** The canonical text of {@code value}; an IllegalArgumentException says why there is none. */
    static String of(JsonElement value) {
        StringBuilder out = new StringBuilder(64);
        write(value, out);
        return out.toString();
    }

    private static void write(JsonElement value, StringBuilder out) {
        if (value.isJsonObject()) {
            Map<String, JsonElement> sorted = new TreeMap<>(value.getAsJsonObject().asMap());   // String.compareTo: UTF-16 code units
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, JsonElement> member : sorted.entrySet()) {
                out.append(first ? "" : ",");
                first = false;
                string(member.getKey(), out);
                out.append(':');
                write(member.getValue(), out);
            }
            out.append('}');
        } else if (value.isJsonArray()) {
            out.append('[');
            for (int i = 0; i < value.getAsJsonArray().size(); i++) {
                out.append(i == 0 ? "" : ",");
                write(value.getAsJsonArray().get(i), out);
            }
            out.append(']');
        } else if (value.isJsonNull()) {
            out.append("null");
        } else {
            JsonPrimitive primitive = value.getAsJsonPrimitive();
            if (primitive.isString()) {
                string(primitive.getAsString(), out);
            } else if (primitive.isBoolean()) {
                out.append(primitive.getAsBoolean());
            } else {
                out.append(number(primitive.getAsDouble()));
            }
        }
    }

    private static void string(String text, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1));
                if (!paired) {
                    throw new IllegalArgumentException("it is not Unicode text: a lone surrogate \\u"
                            + Integer.toHexString(c) + " at character " + i + " of a string (RFC 3629)");
                }
                out.append(c).append(text.charAt(++i));
                continue;
            }
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xF, 16));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /**
     * Java's Double.toString gives at least two digits where one would do (4.9E-324 for the
     * smallest double, which ECMAScript prints 5e-324): of two digits, the one-digit neighbour
     * that reads back as the same double, the nearer if both do, is ECMAScript's choice.
     */
    private static BigDecimal oneDigitIfItRoundTrips(BigDecimal twoOrMore, double value) {
        if (twoOrMore.precision() != 2) {
            return twoOrMore;
        }
        BigDecimal down = twoOrMore.round(new MathContext(1, RoundingMode.DOWN));
        BigDecimal up = twoOrMore.round(new MathContext(1, RoundingMode.UP));
        BigDecimal exact = new BigDecimal(value);
        BigDecimal best = null;
        for (BigDecimal candidate : new BigDecimal[] {down, up}) {
            if (Double.parseDouble(candidate.toString()) == value
                    && (best == null || candidate.subtract(exact).abs().compareTo(best.subtract(exact).abs()) < 0)) {
                best = candidate;
            }
        }
        return best == null ? twoOrMore : best.stripTrailingZeros();
    }

    /**
     * A double as ECMAScript prints it (ECMA-262, Number::toString): the shortest digits that
     * read back as the same double (Java's Double.toString finds the same ones), laid out
     * without an exponent from 1e-6 up to 1e21, with one outside that range.
     */
    static String number(double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            throw new IllegalArgumentException("it is not a JSON number: " + value);
        }
        if (value == 0) {
            return "0";   // -0 too
        }
        BigDecimal shortest = oneDigitIfItRoundTrips(new BigDecimal(Double.toString(Math.abs(value))).stripTrailingZeros(),
                Math.abs(value));
        String digits = shortest.unscaledValue().toString();
        int k = digits.length();
        int n = k - shortest.scale();   // the value is 0.digits x 10^n
        String sign = value < 0 ? "-" : "";
        if (k <= n && n <= 21) {
            return sign + digits + "0".repeat(n - k);
        }
        if (0 < n && n <= 21) {
            return sign + digits.substring(0, n) + "." + digits.substring(n);
        }
        if (-6 < n && n <= 0) {
            return sign + "0." + "0".repeat(-n) + digits;
        }
        String exponent = (n - 1 < 0 ? "-" : "+") + Math.abs(n - 1);
        return sign + digits.charAt(0) + (k > 1 ? "." + digits.substring(1) : "") + "e" + exponent;
    }
}
