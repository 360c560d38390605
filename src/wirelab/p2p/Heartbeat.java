package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The node's clock, on two virtual threads of its own. Every beat ({@link #BEAT_MS}): the
 * GRAFTs that are due, a node off the broadcast tree grafted back on, and connections whose
 * writes stalled dropped. Every {@link BroadcastTree#IHAVE_INTERVAL_MS}: the round's IHAVEs.
 * Every {@link #RTT_PING_MS}: a ping to each neighbour, to time its link. Every second: free
 * outgoing slots filled from the address book (and, when it runs dry, a neighbour asked for
 * more). Every SYNC_INTERVAL_MS, give or take a fifth so that nodes do not beat in step: a
 * catch-up with a neighbour picked at random. Apart from the beat, every half PING_INTERVAL_MS,
 * the outgoing connections' keep-alive.
 */
final class Heartbeat {

    private static final System.Logger log = System.getLogger("peer-node");

    /** How often the heartbeat looks for overdue GRAFTs and for a node left off the broadcast tree. */
    static final long BEAT_MS = 100;
    /** How often each link's round trip is measured: often enough to follow a link that slows down. */
    static final long RTT_PING_MS = 2_000;

    private final NodeConfig config;
    private final Membership membership;
    private final BroadcastTree broadcast;
    private final CatchUp catchUp;
    private volatile boolean running = true;

    Heartbeat(NodeConfig config, Membership membership, BroadcastTree broadcast, CatchUp catchUp) {
        this.config = config;
        this.membership = membership;
        this.broadcast = broadcast;
        this.catchUp = catchUp;
    }

    void start() {
        if (config.pingIntervalMs() > 0) {
            Thread.ofVirtual().name("peer-keep-alive").start(this::keepAlive);
        }
        Thread.ofVirtual().name("peer-heartbeat").start(this::beat);
    }

    void stop() {
        running = false;
    }

    /**
     * Outgoing connections are pinged too: a peer whose host crashed or lost its network sends
     * neither FIN nor RST, and without this it would stay in connectedAddresses, and in our
     * HANDSHAKEs, forever.
     */
    private void keepAlive() {
        while (running) {
            try {
                Thread.sleep(Math.max(1, config.pingIntervalMs() / 2));
            } catch (InterruptedException e) {
                return;
            }
            membership.outgoing().connections().forEach(connection -> connection.checkLiveness(config.pingIntervalMs()));
        }
    }

    private void beat() {
        long beats = 0;
        long nextSync = System.nanoTime() + jitteredSyncIntervalNanos();
        while (running) {
            try {
                Thread.sleep(BEAT_MS);
            } catch (InterruptedException e) {
                return;
            }
            beats++;
            List<Neighbour> neighbours = membership.neighbours();
            broadcast.graftOverdue();
            broadcast.ensureEager(neighbours);
            membership.dropStalled();
            if (beats % (BroadcastTree.IHAVE_INTERVAL_MS / BEAT_MS) == 0) {
                broadcast.flushAnnouncements(neighbours);
            }
            if (beats % (RTT_PING_MS / BEAT_MS) == 0) {
                neighbours.forEach(Neighbour::ping);
            }
            if (beats % (1_000 / BEAT_MS) == 0 && membership.outgoing().fill() && beats % (5_000 / BEAT_MS) == 0) {
                askForAddresses();
            }
            if (System.nanoTime() - nextSync > 0) {
                syncWithANeighbour();
                nextSync = System.nanoTime() + jitteredSyncIntervalNanos();
            }
        }
    }

    /**
     * Slots are free and the address book has nothing to fill them: our HANDSHAKE again to one
     * outgoing neighbour of ours, picked at random, which answers with its own (at most every 5 s).
     */
    private void askForAddresses() {
        List<Neighbour> ours = membership.neighbours().stream()
                .filter(n -> n.direction == Neighbour.Direction.OUTGOING && n.speaksWirelab()).toList();
        if (!ours.isEmpty()) {
            Neighbour asked = ours.get(ThreadLocalRandom.current().nextInt(ours.size()));
            asked.sendHandshake(membership.outgoing().handshakeData());
            log.log(INFO, "address book ran dry with slots free; sent HANDSHAKE to " + asked + " again for its neighbours");
        }
    }

    private long jitteredSyncIntervalNanos() {
        return (long) (config.syncIntervalMs() * 1_000_000L * ThreadLocalRandom.current().nextDouble(0.8, 1.2));
    }

    private void syncWithANeighbour() {
        List<Neighbour> candidates = membership.neighbours().stream()
                .filter(n -> n.speaksWirelab() && catchUp.due(n)).toList();
        if (!candidates.isEmpty()) {
            catchUp.start(candidates.get(ThreadLocalRandom.current().nextInt(candidates.size())));
        }
    }
}
