package wirelab;

/**
 * How long a peer has said nothing, and what a keep-alive round should do about it. A host
 * that crashed or lost its network sends neither FIN nor RST, so only silence tells it is gone:
 * a connection silent for an interval gets a ping, and one still silent two intervals after it
 * was last heard from (so about an interval after its ping, rounds coming every half
 * interval) is dead. Both ends of a node's connections keep one: the WebSocket server's for what
 * clients opened, the node's for what it dialed through the JDK client.
 */
public final class Silence {

    /** What the keep-alive round should do now. */
    public enum Verdict { FINE, PING, DEAD }

    private volatile long lastHeardNanos = System.nanoTime();
    private volatile boolean pingOutstanding;

    /** Anything from the peer (bytes, a message, a pong) shows it is alive. */
    public void heardFrom() {
        lastHeardNanos = System.nanoTime();
        pingOutstanding = false;
    }

    /** The round's verdict for a ping interval of {@code intervalMs}. */
    public Verdict check(int intervalMs) {
        long silent = silentMs();
        if (silent < intervalMs) {
            return Verdict.FINE;
        }
        if (pingOutstanding) {
            return silent >= 2L * intervalMs ? Verdict.DEAD : Verdict.FINE;
        }
        return Verdict.PING;
    }

    /** A ping is on its way: the next verdicts wait for its answer. */
    public void pingSent() {
        pingOutstanding = true;
    }

    public long silentMs() {
        return (System.nanoTime() - lastHeardNanos) / 1_000_000;
    }
}
