package wirelab.p2p;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which incoming neighbour makes room when a newcomer finds every incoming slot
 * ({@code MAX_INCOMING_PEERS}) taken: Bitcoin Core's inbound eviction (net.cpp,
 * SelectNodeToEvict), in a smaller form. Without it, whoever fills the slots first keeps them:
 * 32 idle sockets would lock every newcomer out, and a node that joins after churn would meet
 * only the one who holds them (an eclipse). Known peers are never candidates. Of the others:
 *
 * <ol>
 * <li>{@link #PROTECTED_BY_GROUP} are kept by their address group, ranked by a keyed hash: the
 *     key is the node's own secret, so a stranger cannot tell which groups are safe, and one
 *     who holds many addresses of one group does not win them all;
 * <li>the {@link #PROTECTED_BY_RELAY} that most recently brought a transaction this node did
 *     not have are kept: useful relays, which an attacker can only copy by relaying;
 * <li>the older half of the rest are kept: to take a slot from a long-lived neighbour, an
 *     attacker must have been there longer still;
 * <li>of what is left, the address group (an IPv4 /16, an IPv6 /32, on loopback the address a
 *     node names for itself) that holds the most slots loses its youngest: a source that fills
 *     the slots pays first.
 * </ol>
 *
 * So a node with few incoming slots (eight or fewer) never evicts: all are protected, and the
 * newcomer is refused (1013), as when nothing is left to evict. A decision only: it touches no
 * socket, so a test can ask it directly.
 */
final class Eviction {

    static final int PROTECTED_BY_GROUP = 4;
    static final int PROTECTED_BY_RELAY = 4;

    /** An incoming neighbour as eviction sees it. */
    record Candidate(Neighbour neighbour, String group, long openedNanos, long lastNewTransactionNanos) {
    }

    private Eviction() {
    }

    /** The neighbour to evict, or null when every one is protected; {@code key} is the node's secret for ranking groups. */
    static Neighbour choose(List<Candidate> candidates, long key) {
        List<Candidate> left = new ArrayList<>(candidates);
        left.sort(Comparator.comparingLong(candidate -> keyedHash(candidate.group(), key)));
        left.subList(0, Math.min(PROTECTED_BY_GROUP, left.size())).clear();
        left.sort(Comparator.comparingLong(Candidate::lastNewTransactionNanos).reversed());
        for (int kept = 0; kept < PROTECTED_BY_RELAY && !left.isEmpty() && left.get(0).lastNewTransactionNanos() != Long.MIN_VALUE; kept++) {
            left.remove(0);
        }
        left.sort(Comparator.comparingLong(Candidate::openedNanos));   // oldest first
        left.subList(0, left.size() / 2).clear();
        if (left.isEmpty()) {
            return null;
        }
        Map<String, List<Candidate>> byGroup = new HashMap<>();
        left.forEach(candidate -> byGroup.computeIfAbsent(candidate.group(), g -> new ArrayList<>()).add(candidate));
        List<Candidate> biggest = byGroup.values().stream()
                .max(Comparator.<List<Candidate>>comparingInt(List::size)
                        .thenComparingLong(group -> group.get(group.size() - 1).openedNanos()))
                .orElseThrow();
        return biggest.get(biggest.size() - 1).neighbour();   // each group is oldest first: its last is its youngest
    }

    /** A hash of the group under the node's key: a SplitMix64 step, enough to rank groups unpredictably. */
    private static long keyedHash(String group, long key) {
        long z = group.hashCode() * 0x9E3779B97F4A7C15L + key;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
