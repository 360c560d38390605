package wirelab.p2p;

import java.util.Arrays;

/**
 * What a {@link TransactionPool} keeps in the heap for every transaction on disk: its digest
 * and where its line stands in {@code transactions.json}, in primitive arrays, so that a pool
 * of millions of tiny transactions costs the same few bytes for each, whatever its size (a
 * {@code HashMap<String, ...>} cost 150 to 200 bytes for each, and 4,000,000 transactions of
 * 15 bytes did not fit a node's heap).
 *
 * <pre>
 * by position (the order stored, which is the file's order):
 *   high[p], low[p]   the digest's 128 bits                     16 bytes
 *   lineStart[p]      the byte where its line starts             8 bytes
 * slots               open addressing on the digest: p + 1,      4 bytes a slot, at most half of
 *                     0 for an empty slot (linear probing)       them in use: 8 to 16 bytes
 * byBucket[b]         the positions in catch-up bucket b         4 bytes
 *                                                                ----------------------------
 *                                                                36 to 44 bytes a transaction
 * </pre>
 *
 * A line's length needs no field: lines are separated by {@code ",\n"}, so it runs up to two
 * bytes before the next line's start (the last one up to {@link #end}). Transactions are only
 * ever added, at the end of the file, never removed. It also keeps the 256 bucket digests that
 * catch-up compares ({@link CatchUp}): a bucket's digest is the XOR of the low 64 bits of the
 * digests in it, so adding one is one step, whatever the pool's size.
 *
 * <p>Not thread-safe: the pool calls it under its lock.
 */
final class PoolIndex {

    static final int BUCKETS = 256;

    private long[] high;
    private long[] low;
    private long[] lineStart;
    private int[] slots;
    private int count;
    private long end;   // one past the last line's last byte
    private final long[] bucketDigests = new long[BUCKETS];
    private final int[][] byBucket = new int[BUCKETS][];
    private final int[] bucketSize = new int[BUCKETS];

    /**
     * An empty index with room for {@code expected} transactions, so that a pool read at start
     * fills arrays of the right size rather than growing them (and leaving the old ones behind).
     */
    PoolIndex(int expected) {
        int capacity = Math.max(16, expected);
        high = new long[capacity];
        low = new long[capacity];
        lineStart = new long[capacity];
        slots = new int[Integer.highestOneBit(Math.max(16, 2 * capacity - 1)) << 1];
        for (int bucket = 0; bucket < BUCKETS; bucket++) {
            byBucket[bucket] = new int[capacity / BUCKETS + capacity / BUCKETS / 8 + 4];   // a bucket's share, and room for chance
        }
    }

    int count() {
        return count;
    }

    boolean contains(TransactionDigest digest) {
        return positionOf(digest) >= 0;
    }

    /** Where the transaction stands in storage order, or -1 when it is not here. */
    int positionOf(TransactionDigest digest) {
        int mask = slots.length - 1;
        for (int slot = slotOf(digest.low(), mask); slots[slot] != 0; slot = (slot + 1) & mask) {
            int position = slots[slot] - 1;
            if (high[position] == digest.high() && low[position] == digest.low()) {
                return position;
            }
        }
        return -1;
    }

    /**
     * Adds a transaction whose line of {@code length} bytes starts at {@code start}, after
     * every line already here; false (nothing added) when its digest is already here.
     */
    boolean add(TransactionDigest digest, long start, int length) {
        if (contains(digest)) {
            return false;
        }
        if (count > 0 && start != end + 2) {
            throw new IllegalArgumentException("line at byte " + start + " does not follow the last one, which ends at " + end);
        }
        if (count == high.length) {
            int capacity = count + count / 2;
            high = Arrays.copyOf(high, capacity);
            low = Arrays.copyOf(low, capacity);
            lineStart = Arrays.copyOf(lineStart, capacity);
        }
        high[count] = digest.high();
        low[count] = digest.low();
        lineStart[count] = start;
        end = start + length;
        count++;
        if (2L * count > slots.length) {
            rehash(slots.length * 2);
        } else {
            place(count - 1);
        }
        int bucket = digest.bucket();
        bucketDigests[bucket] ^= digest.low();
        if (bucketSize[bucket] == byBucket[bucket].length) {
            byBucket[bucket] = Arrays.copyOf(byBucket[bucket], bucketSize[bucket] * 2);
        }
        byBucket[bucket][bucketSize[bucket]++] = count - 1;
        return true;
    }

    TransactionDigest digestAt(int position) {
        return new TransactionDigest(high[position], low[position]);
    }

    int bucketSize(int bucket) {
        return bucketSize[bucket];
    }

    /** Up to {@code max} positions in the bucket, from its {@code from}-th on, in the order stored. */
    int[] positionsInBucket(int bucket, int from, int max) {
        int to = Math.min(bucketSize[bucket], from + max);
        return from >= to ? new int[0] : Arrays.copyOfRange(byBucket[bucket], from, to);
    }

    long lineStart(int position) {
        return lineStart[position];
    }

    int lineLength(int position) {
        long next = position + 1 < count ? lineStart[position + 1] - 2 : end;
        return (int) (next - lineStart[position]);
    }

    /** One past the last line's last byte: where the file's closing "\n]\n" starts; 0 when empty. */
    long end() {
        return end;
    }

    long[] bucketDigests() {
        return bucketDigests.clone();
    }

    private void rehash(int size) {
        slots = new int[size];
        for (int position = 0; position < count; position++) {
            place(position);
        }
    }

    private void place(int position) {
        int mask = slots.length - 1;
        int slot = slotOf(low[position], mask);
        while (slots[slot] != 0) {
            slot = (slot + 1) & mask;
        }
        slots[slot] = position + 1;
    }

    /** The digest's bits are already uniform: any 32 of them pick a slot. */
    private static int slotOf(long low, int mask) {
        return (int) (low ^ (low >>> 32)) & mask;
    }
}
