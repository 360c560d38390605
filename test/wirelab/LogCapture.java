package wirelab;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The lines one logger publishes while a test runs: attached when made, detached on close, so
 * a test reads what the code logged, as text, from any thread.
 */
public final class LogCapture implements AutoCloseable {

    private final Logger logger;   // held here: the logging framework keeps loggers only weakly
    private final List<String> lines = new ArrayList<>();   // guarded by itself
    private final Handler handler;

    /** Captures the records of the logger {@code name}, each as {@code asText} writes it. */
    public LogCapture(String name, Function<LogRecord, String> asText) {
        this.logger = Logger.getLogger(name);
        this.handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                synchronized (lines) {
                    lines.add(asText.apply(record));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
    }

    /** Captures the messages of the logger {@code name}. */
    public LogCapture(String name) {
        this(name, LogRecord::getMessage);
    }

    /** The lines so far, in the order logged. */
    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
    }
}
