package wirelab;

import java.io.PrintStream;
import java.util.HexFormat;

/**
 * {@code --trace}: one line per unit on the wire (a request, a packet, an HTTP head, a frame),
 * to standard error, so output files and the normal log are unchanged. Each line says whose
 * bytes they are and which way they went, every byte in hex grouped by field, and what the
 * bytes mean:
 *
 * <pre>
 * 127.0.0.1:41306 <- 01 00                                    request: call type 1, stream all packets
 * 127.0.0.1:41306 -> 4141504c 42 00000032 00000064 00000001   AAPL  B  quantity 50  price 100  sequence 1
 * </pre>
 *
 * "<-" is what the peer sent us, "->" what we sent it. Off unless an entry point's --trace
 * turns it on; every caller asks {@link #on()} first, so a trace costs nothing when it is off.
 */
public final class Trace {

    /** Payload bytes shown in hex before the rest is cut, with a count of what was left out. */
    public static final int MAX_PAYLOAD_BYTES = 24;
    private static final int HEX_COLUMN = 44;

    private static volatile PrintStream out;

    private Trace() {
    }

    /** Turns tracing on, to standard error. */
    public static void enable() {
        enable(System.err);
    }

    /** Turns tracing on, to {@code stream} (tests read it back). */
    public static void enable(PrintStream stream) {
        out = stream;
    }

    public static void disable() {
        out = null;
    }

    public static boolean on() {
        return out != null;
    }

    /** What {@code peer} sent us. */
    public static void received(String peer, String hexByField, String meaning) {
        line(peer, "<-", hexByField, meaning);
    }

    /** What we sent {@code peer}. */
    public static void sent(String peer, String hexByField, String meaning) {
        line(peer, "->", hexByField, meaning);
    }

    private static void line(String peer, String direction, String hexByField, String meaning) {
        PrintStream stream = out;
        if (stream != null) {
            String bytes = peer + " " + direction + " " + hexByField;
            stream.println(bytes + " ".repeat(Math.max(1, HEX_COLUMN - bytes.length() + peer.length())) + "  " + meaning);
        }
    }

    /** bytes[offset..offset+length) in hex, no spaces: one field. */
    public static String hex(byte[] bytes, int offset, int length) {
        return HexFormat.of().formatHex(bytes, offset, offset + length);
    }

    /** A payload in hex, cut after {@link #MAX_PAYLOAD_BYTES} with a count of the rest. */
    public static String payloadHex(byte[] bytes) {
        int shown = Math.min(bytes.length, MAX_PAYLOAD_BYTES);
        return hex(bytes, 0, shown) + (bytes.length > shown ? "... (+" + (bytes.length - shown) + " bytes)" : "");
    }

    /** Text as a quoted string, cut after 60 characters with a count of the rest. */
    public static String quote(String text) {
        String shown = text.length() <= 60 ? text : text.substring(0, 60);
        return "\"" + shown.replace("\n", "\\n").replace("\r", "\\r") + "\""
                + (text.length() > shown.length() ? "... (+" + (text.length() - shown.length()) + " chars)" : "");
    }
}
