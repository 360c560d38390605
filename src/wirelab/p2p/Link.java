package wirelab.p2p;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One gossip link of the {@link BroadcastTree}, between this node and a neighbour of ours:
 * eager (it carries whole TRANSACTIONs) or lazy (only IHAVEs), its round-trip time as
 * WebSocket pings measure it, and the ids announced on it that a GRAFT may still ask for. Two
 * nodes of ours that dialed each other share one link between their two connections
 * ({@link Membership#neighbours}).
 */
final class Link {

    /** Ids announced on one link that its GRAFT may still ask for; the oldest are forgotten first. */
    static final int MAX_ANNOUNCED = 10_000;

    private boolean eager;
    private long lastIHaveNanos = Long.MIN_VALUE;   // when this link was last sent an IHAVE: it takes its turn
    private final Set<TransactionDigest> announced = new LinkedHashSet<>();
    private double srttMs = -1;   // RFC 6298's smoothed round-trip time and its variation; -1 until measured
    private double rttvarMs;

    synchronized boolean isEager() {
        return eager;
    }

    /** Turns the link eager or lazy; true when that changed it. */
    synchronized boolean setEager(boolean eager) {
        boolean changed = this.eager != eager;
        this.eager = eager;
        return changed;
    }

    /** Counts the id as announced here (a GRAFT may ask for it); false if it already was. */
    synchronized boolean announce(TransactionDigest id) {
        if (!announced.add(id)) {
            return false;
        }
        if (announced.size() > MAX_ANNOUNCED) {
            var oldest = announced.iterator();
            oldest.next();
            oldest.remove();
        }
        return true;
    }

    /** When this link was last sent an IHAVE ({@link Long#MIN_VALUE}: never), so that lazy links take turns. */
    synchronized long lastIHaveNanos() {
        return lastIHaveNanos;
    }

    synchronized void sentIHave(long nowNanos) {
        lastIHaveNanos = nowNanos;
    }

    synchronized boolean takeAnnounced(TransactionDigest id) {
        return announced.remove(id);
    }

    /** A round trip measured by a ping (RFC 6298, 2.3: SRTT and RTTVAR, with its gains of 1/8 and 1/4). */
    synchronized void rttSample(double ms) {
        if (srttMs < 0) {
            srttMs = ms;
            rttvarMs = ms / 2;
        } else {
            rttvarMs = 0.75 * rttvarMs + 0.25 * Math.abs(srttMs - ms);
            srttMs = 0.875 * srttMs + 0.125 * ms;
        }
    }

    /** The smoothed round trip in ms; {@link Double#MAX_VALUE} until one is measured. */
    synchronized double rttMs() {
        return srttMs < 0 ? Double.MAX_VALUE : srttMs;
    }

    /**
     * A round trip and a half, and up to four times its spread (RFC 6298's RTO, whose spread
     * term may add no more than one round trip here: a CPU stall measured once must not make
     * every repair wait seconds); the default until a round trip is measured.
     */
    synchronized long roundTripTimeoutMs() {
        return srttMs < 0 ? BroadcastTree.DEFAULT_GRAFT_TIMEOUT_MS : (long) (1.5 * srttMs + Math.min(4 * rttvarMs, srttMs));
    }
}
