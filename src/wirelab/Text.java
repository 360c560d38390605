package wirelab;

/**
 * Two habits for text that crosses the wire, kept once: how many bytes it takes in UTF-8
 * (RFC 6455 and every limit here count bytes, not Java's UTF-16 chars), and a peer's text cut
 * short before it is repeated in a log line or an answer, so that what a stranger sends can
 * never grow our log or our answers by more than a few dozen characters.
 */
public final class Text {

    /** The most of a peer's text repeated anywhere; the rest is counted, not shown. */
    public static final int ABBREVIATED_CHARS = 80;

    private Text() {
    }

    /**
     * How many bytes the characters take in UTF-8: a surrogate pair is one 4-byte character. A
     * lone surrogate, which UTF-8 cannot encode, counts as the 3 bytes of the replacement
     * character U+FFFD; whoever must store text exactly refuses it instead.
     */
    public static int utf8Length(CharSequence text) {
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** Text a peer sent, cut to {@link #ABBREVIATED_CHARS} characters for a log line or an answer. */
    public static String abbreviate(String text) {
        return text.length() <= ABBREVIATED_CHARS ? text
                : text.substring(0, ABBREVIATED_CHARS) + "... (" + text.length() + " chars)";
    }
}
