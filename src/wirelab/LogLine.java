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
 */
public final class LogLine extends Formatter {

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
        line.append(record.getLoggerName()).append(": ").append(formatMessage(record));
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            line.append(System.lineSeparator()).append(trace);
        }
        return line.append(System.lineSeparator()).toString();
    }

    private static StringBuilder twoDigits(StringBuilder line, int value) {
        return line.append(value < 10 ? "0" : "").append(value);
    }
}
