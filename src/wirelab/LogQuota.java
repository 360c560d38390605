package wirelab;

import java.lang.System.Logger.Level;

/**
 * One source's quota of log lines, so that a peer sending nothing but bad messages cannot fill
 * the disk with the lines that report them (Bitcoin Core limits its log per source location
 * for the same reason). A {@link TokenBucket} of {@link #BURST} lines refills at
 * {@link #PER_SECOND}; a line past it is counted instead of written, and the next line written
 * says how many were suppressed. Whoever keeps the quotas keeps one per source, by host (in a
 * {@link RecentlyHeard}), so that reconnecting does not reset it.
 */
public final class LogQuota {

    public static final int BURST = 1_000;
    public static final double PER_SECOND = 100;

    private final TokenBucket lines = new TokenBucket(BURST, PER_SECOND);
    private final String source;
    private long suppressed;   // guarded by this

    /** The quota for lines about {@code source}, which the "suppressed" line names. */
    public LogQuota(String source) {
        this.source = source;
    }

    /** Writes the line if the source is within its quota; else counts it. */
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
            log.log(Level.WARNING, "suppressed " + before + " log lines about " + source + " (more than " + BURST
                    + " at once, or " + (int) PER_SECOND + " a second)");
        }
        log.log(level, line);
    }
}
