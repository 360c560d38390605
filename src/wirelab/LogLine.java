package wirelab;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.LocalTime;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One log line per event, "10:41:07.215 INFO    exchange-client: streams ended: ...", as
 * {@code src/logging.properties} asks for it. It does what SimpleFormatter's format string
 * did, by hand: java.util.Formatter's first use cost every short command 20 ms of start-up.
 *
 * <p>A message often holds what a peer or a client sent. So every control character in it is
 * written escaped (a newline as backslash and n; ESC as backslash, u and 001b): a peer cannot
 * start a forged line of its own, or send escape sequences to the terminal that shows the
 * log. A message is cut at {@link #MAX_MESSAGE_CHARS}.
 */
public final class LogLine extends Formatter {

    static final int MAX_MESSAGE_CHARS = 2_000;

    @Override
    public String format(LogRecord record) {
        LocalTime time = LocalTime.ofInstant(record.getInstant(), java.time.ZoneId.systemDefault());
        StringBuilder line = new StringBuilder(128);
        twoDigits(line, time.getHour()).append(':');
        twoDigits(line, time.getMinute()).append(':');
        twoDigits(line, time.getSecond()).append('.');
        int millis = time.getNano() / 1_000_000;
        line.append(millis < 100 ? "0" : "").append(millis < 10 ? "0" : "").append(millis).append(' ');
        String level = record.getLevel().getName();
        line.append(level).append(" ".repeat(Math.max(1, 8 - level.length())));
        line.append(record.getLoggerName()).append(": ");
        escaped(line, formatMessage(record));
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            line.append(System.lineSeparator()).append(trace);
        }
        return line.append(System.lineSeparator()).toString();
    }

    /** Appends the message with control characters escaped, cut at MAX_MESSAGE_CHARS. */
    static void escaped(StringBuilder line, String message) {
        int end = Math.min(message.length(), MAX_MESSAGE_CHARS);
        for (int i = 0; i < end; i++) {
            char c = message.charAt(i);
            switch (c) {
                case '\n' -> line.append("\\n");
                case '\r' -> line.append("\\r");
                case '\t' -> line.append("\\t");
                default -> {
                    if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029) {   // 2028, 2029: Unicode's line breaks
                        String hex = Integer.toHexString(c);
                        line.append("\\u").append("0".repeat(4 - hex.length())).append(hex);
                    } else {
                        line.append(c);
                    }
                }
            }
        }
        if (message.length() > end) {
            line.append("... (").append(message.length()).append(" chars)");
        }
    }

    private static StringBuilder twoDigits(StringBuilder line, int value) {
        return line.append(value < 10 ? "0" : "").append(value);
    }
}
