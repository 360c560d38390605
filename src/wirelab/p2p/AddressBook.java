package wirelab.p2p;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;

/**
 * The addresses this node has heard of and may dial: what HyParView calls the passive view, in
 * a simple form. HANDSHAKEs fill it. When an outgoing slot is free the node picks from it at
 * random (picking the first learned would make every newcomer dial the oldest nodes, a star),
 * and a picked address leaves the book for the active view, as in HyParView. One that cannot
 * be dialed is gone; one whose connection ended (its node refused us, dropped us, or we dropped
 * it for breaking the rules) comes back, but is not picked again for {@link #BACK_OFF_MS}, so
 * that nobody is redialed in a loop; the back-off ends early when that node dials us itself,
 * which shows it is back.
 *
 * <p>It holds at most {@link #CAPACITY} addresses. A new one then takes the place of one chosen
 * at random, so the book keeps up with a changing network, and no flood of addresses grows it.
 * Safe for any thread: every method holds the book's lock for a short, bounded step.
 */
final class AddressBook {

    static final int CAPACITY = 1_000;
    static final long BACK_OFF_MS = 30_000;

    private final List<String> addresses = new ArrayList<>();
    private final Map<String, Integer> indexOf = new HashMap<>();
    private final Map<String, Long> backOffUntilNanos = new HashMap<>();
    private final Random random = new Random();

    synchronized void add(String address) {
        if (indexOf.containsKey(address)) {
            return;
        }
        if (addresses.size() >= CAPACITY) {
            remove(addresses.get(random.nextInt(addresses.size())));
        }
        indexOf.put(address, addresses.size());
        addresses.add(address);
    }

    /** The address could not be dialed: forgotten until a HANDSHAKE names it again. */
    synchronized void remove(String address) {
        removeKeepingBackOff(address);
        backOffUntilNanos.remove(address);
    }

    /** Our connection to it ended: back in the book, but not picked again for a while. */
    synchronized void lost(String address) {
        add(address);
        backOff(address);
    }

    private void removeKeepingBackOff(String address) {
        Integer index = indexOf.remove(address);
        if (index == null) {
            return;
        }
        String last = addresses.remove(addresses.size() - 1);   // the last one fills the hole: no shifting
        if (index < addresses.size()) {
            addresses.set(index, last);
            indexOf.put(last, index);
        }
    }

    /** Its node ended our connection, or misbehaved: if it is in the book, it is not picked again for a while. */
    synchronized void backOff(String address) {
        if (indexOf.containsKey(address)) {
            backOffUntilNanos.put(address, System.nanoTime() + BACK_OFF_MS * 1_000_000);
        }
    }

    /** Its node dialed us: it is there, and may be picked again. */
    synchronized void seenAlive(String address) {
        backOffUntilNanos.remove(address);
    }

    /** Up to {@code n} different addresses, chosen at random among those {@code eligible} accepts and none backed off; they leave the book. */
    synchronized List<String> pick(int n, Predicate<String> eligible) {
        List<String> picked = new ArrayList<>();
        String[] order = addresses.toArray(String[]::new);
        long now = System.nanoTime();
        for (int i = 0; i < order.length && picked.size() < n; i++) {   // a shuffle, stopped once enough are found
            int j = i + random.nextInt(order.length - i);
            String candidate = order[j];
            order[j] = order[i];
            Long backOffUntil = backOffUntilNanos.get(candidate);
            if (backOffUntil != null && backOffUntil - now > 0) {
                continue;
            }
            if (eligible.test(candidate)) {
                picked.add(candidate);
            }
        }
        picked.forEach(this::removeKeepingBackOff);
        return picked;
    }

    synchronized boolean contains(String address) {
        return indexOf.containsKey(address);
    }

    synchronized int size() {
        return addresses.size();
    }
}
