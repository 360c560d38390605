package wirelab;

import java.lang.System.Logger.Level;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Log lines about what a stranger sends, limited per source (its host), so that a peer sending
 * nothing but bad messages cannot fill the disk with the lines that report them (Bitcoin Core
 * limits its log per source location for the same reason). Each source has a
 * {@link TokenBucket} of {@link #BURST} lines that refills at {@link #PER_SECOND}; a line past
 * it is counted instead of written, and the next line written says how many were suppressed.
 * The quota is kept by host, not by connection, so reconnecting does not reset it.
 */
public final class LogQuota {

    public static final int BURST = 1_000;
    public static final double PER_SECOND = 100;
    private static final int MAX_SOURCES = 1_000;

    /** One source's quota. */
    public static final class Source {
        private final TokenBucket lines = new TokenBucket(BURST, PER_SECOND);
        private final String name;
        private long suppressed;   // guarded by this

        private Source(String name) {
            this.name = name;
        }

        /** Writes the line if this source is within its quota; else counts it. */
        public void log(System.Logger log, Level level, String line) {
            if (!log.isLoggable(level)) {
                return;
            }
            long before;
            synchronized (this) {
                if (!lines.tryTake(1)) {
                    suppressed++;
                    return;
                }
                before = suppressed;
                suppressed = 0;
            }
            if (before > 0) {
                log.log(Level.WARNING, "suppressed " + before + " log lines about " + name + " (more than " + BURST
                        + " at once, or " + (int) PER_SECOND + " a second)");
            }
            log.log(level, line);
        }
    }

    private final Map<String, Source> sources = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Source> eldest) {
            return size() > MAX_SOURCES;
        }
    };

    /** The quota of one source host, shared by all its connections. */
    public synchronized Source of(String host) {
        return sources.computeIfAbsent(host, Source::new);
    }
}
