package wirelab;

/**
 * A token bucket: it holds at most {@code burst} tokens and gains {@code perSecond} a second;
 * each thing it limits takes one. A burst up to its size passes at once, and past it the
 * rate is the refill. Every limit a stranger could otherwise push without end (log lines,
 * dials, messages, catch-up bytes) is one of these.
 */
public final class TokenBucket {

    private final double burst;
    private final double perSecond;
    private double tokens;
    private long lastNanos = System.nanoTime();

    public TokenBucket(double burst, double perSecond) {
        this.burst = burst;
        this.perSecond = perSecond;
        this.tokens = burst;
    }

    /** Takes {@code amount} tokens when there are that many; false, taking none, when not. */
    public synchronized boolean tryTake(double amount) {
        refill();
        if (tokens < amount) {
            return false;
        }
        tokens -= amount;
        return true;
    }

    /** The tokens there are now, taking none. */
    public synchronized double available() {
        refill();
        return tokens;
    }

    private void refill() {
        long now = System.nanoTime();
        tokens = Math.min(burst, tokens + (now - lastNanos) / 1e9 * perSecond);
        lastNanos = now;
    }
}
