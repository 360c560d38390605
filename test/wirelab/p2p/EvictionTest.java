package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Who makes room when every incoming slot is taken, asked of {@link Eviction} directly: the
 * admission rule for a full node, without a socket. Each candidate is a neighbour with its
 * address group, when it connected, and when it last brought a transaction the node lacked.
 */
class EvictionTest {

    private static final long KEY = 42;
    private static final long NEVER = Long.MIN_VALUE;

    private final List<Eviction.Candidate> candidates = new ArrayList<>();

    private Neighbour add(String group, long openedNanos, long lastNewTransactionNanos) {
        Neighbour neighbour = TestNeighbours.ours("ws://" + group + "-" + openedNanos + ":1", new ArrayList<>());
        candidates.add(new Eviction.Candidate(neighbour, group, openedNanos, lastNewTransactionNanos));
        return neighbour;
    }

    @Test
    void fourOrFewerAreAllProtectedByTheirGroupsAndTheNewcomerIsRefused() {
        for (int i = 0; i < Eviction.PROTECTED_BY_GROUP; i++) {
            add("group-" + i, i, NEVER);
        }
        assertNull(Eviction.choose(candidates, KEY));
    }

    @Test
    void aSourceThatFillsTheSlotsLosesItsYoungest() {
        for (int i = 0; i < 10; i++) {
            add("elsewhere-" + i, i, NEVER);   // ten older neighbours, each from a group of its own
        }
        Neighbour youngest = null;
        for (int i = 10; i < 20; i++) {
            youngest = add("flood", i, NEVER);   // then one source takes ten slots
        }
        assertSame(youngest, Eviction.choose(candidates, KEY));
    }

    @Test
    void aNeighbourThatRelaysNewTransactionsIsKept() {
        Neighbour secondYoungest = null;
        for (int i = 0; i < 19; i++) {
            secondYoungest = add("flood", i, NEVER);
        }
        add("flood", 19, 1_000);   // the youngest brought a new transaction: a useful relay
        assertSame(secondYoungest, Eviction.choose(candidates, KEY));
    }

    @Test
    void theOlderHalfIsKept() {
        Neighbour[] byAge = new Neighbour[12];
        for (int i = 0; i < 12; i++) {
            byAge[i] = add("flood", i, NEVER);
        }
        // 4 kept by group (the first in order, all of one group), the older half of the other 8 kept: 12-15 are left
        assertSame(byAge[11], Eviction.choose(candidates, KEY));
        candidates.removeIf(candidate -> candidate.neighbour() == byAge[11]);
        assertSame(byAge[10], Eviction.choose(candidates, KEY));
    }
}
