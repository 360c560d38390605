package wirelab;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What a server remembers about each source it heard from, for the {@code kept} sources heard
 * from last: a value per key, made the first time the key is heard. The least recently heard
 * is forgotten when one more arrives, so a flood of fresh sources costs a bounded map, and a
 * forgotten source starts afresh. Every server here keeps its per-source budgets in one.
 */
public final class RecentlyHeard<K, V> {

    private final Map<K, V> values;
    private final Function<K, V> make;

    public RecentlyHeard(int kept, Function<K, V> make) {
        this.make = make;
        this.values = new LinkedHashMap<>(16, 0.75f, true) {   // access order: the least recently heard first
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > kept;
            }
        };
    }

    /** The key's value, made now if the key is new (or was forgotten); the key is now the most recently heard. */
    public synchronized V of(K key) {
        return values.computeIfAbsent(key, make);
    }

    /** At most {@code atMost} values, the most recently heard first. */
    public synchronized List<V> newestFirst(int atMost) {
        List<V> all = new ArrayList<>(values.values());
        List<V> newest = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0 && newest.size() < atMost; i--) {
            newest.add(all.get(i));
        }
        return newest;
    }
}
