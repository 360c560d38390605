package wirelab.p2p;

import static java.lang.System.Logger.Level.WARNING;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.AtomicFile;

/**
 * A node's transaction pool: every transaction it stored, in the order it stored them, in
 * {@code transactions.json}, one transaction a line (the layout is {@link PoolFile}'s).
 * {@link Inbox} decides what to store; this file makes "stored" mean something:
 * <ul>
 * <li>each transaction is stored once, by its digest ({@link TransactionDigest}), even across
 *     restarts: a file that holds one transaction twice (edited by hand) is read as one, and
 *     written back with it once;
 * <li>a transaction counts as stored only once it is on disk: the future {@link #add} returns
 *     completes after the fsync, and only then is it counted, logged and passed on;
 * <li>storing costs the size of the new transactions, not of the pool: they are appended in
 *     place of the closing {@code "\n]\n"}, which is written again after them. One writer thread ({@link PoolWriter})
 *     does it; whatever arrived while it wrote goes in its next append (one write, one fsync);
 * <li>a line is written as the bytes it was given, and its length and offset are those bytes'
 *     own, so every stored line reads back exactly as it was written. Text that UTF-8 cannot
 *     encode (a lone surrogate) is refused by {@link #add}, never written as a '?'.
 * </ul>
 *
 * The heap holds what the node needs to find and serve transactions, not their text: the
 * {@link PoolIndex} of what is on disk (digests and line offsets in primitive arrays, about 35
 * bytes a transaction), and the bytes of those added but not yet on disk (at most
 * {@link #MAX_UNWRITTEN}). A transaction that catch-up, a GRAFT or the live view asks for is
 * read back from the file. Start-up reads the file as a stream, a line at a time.
 *
 * <p>What a crash can leave: an append cut short, so the file ends in a line that is half a
 * transaction and has no closing bracket. Every line before it was fsynced whole. On start,
 * {@link #load} keeps every whole line, drops the cut one (it was never reported as stored),
 * and writes the file back whole through {@link AtomicFile}, so the node starts from valid JSON.
 */
final class TransactionPool {

    private static final System.Logger log = System.getLogger("peer-node");

    /** Most transactions added and not yet on disk; past it, add() waits for the writer. */
    static final int MAX_UNWRITTEN = 10_000;

    private final Path file;
    private final ReentrantLock poolLock = new ReentrantLock();   // guards everything below but the file
    private final Condition unwritten = poolLock.newCondition();   // added: the writer has work, or the pool closed
    private final Condition written = poolLock.newCondition();     // an append ended: room to add again
    private final PoolIndex index;                                // what is on disk
    /** Added, not yet on disk, in the order added (the file's order): the bytes of its line, and whom to tell. */
    record Pending(byte[] line, CompletableFuture<Void> onDisk) {
    }
    private final Map<TransactionDigest, Pending> pending = new LinkedHashMap<>();
    private boolean closed;
    private Thread writer;     // PoolWriter's thread: the only one that touches the file after load
    private long bytes;        // every line held, on disk or pending, and its ",\n": about the size of the file

    private TransactionPool(Path file, int expected) {
        this.file = file;
        this.index = new PoolIndex(expected);
    }

    /** The pool in {@code file}, repaired if a crash cut its last append short; an empty one when there is no file. */
    static TransactionPool load(Path file) throws IOException {
        PoolFile.prepare(file);
        int lines = PoolFile.countLines(file);
        TransactionPool pool = new TransactionPool(file, lines);
        PoolFile.Scan scan = PoolFile.scan(file, null, pool::keepStored);
        if (scan.cut() && PoolFile.isSmallJson(file)) {
            PoolFile.rewriteOneALine(file);   // not cut by a crash after all: a whole array, laid out by hand
            pool = new TransactionPool(file, PoolFile.countLines(file));
            scan = PoolFile.scan(file, null, pool::keepStored);
        } else if (scan.cut()) {
            log.log(WARNING, file + " ended in an append cut short by a crash: kept " + scan.kept()
                    + " whole transactions, dropped line " + scan.cutAtLine() + " and the rest");
        }
        if (!scan.canonical()) {   // new, repaired, with duplicates, or written by hand: written back canonical
            TransactionPool again = new TransactionPool(file, lines);
            PoolFile.Scan[] rewritten = new PoolFile.Scan[1];
            AtomicFile.write(file, out -> rewritten[0] = PoolFile.scan(file, out, again::keepStored));
            pool = again;
            scan = rewritten[0];
        }
        pool.writer = Thread.ofVirtual().name("pool-writer").start(new PoolWriter(pool, file, scan.fileLength()));
        return pool;
    }

    /** A line read at start: kept, unless its transaction is already held (false). */
    private boolean keepStored(TransactionDigest digest, long offset, int length) {
        if (!index.add(digest, offset, length)) {
            return false;
        }
        bytes += length + 2;   // and ",\n"
        return true;
    }

    /**
     * Adds the transaction (its JSON text, one line) and returns at once: null when it is
     * already in the pool, else a future that completes once the transaction is on disk, or
     * fails if its append did (then the pool forgets it, and a later copy may try again) or the
     * pool is closed. The caller goes on reading while the pool's writer works, so transactions
     * that arrive together share one append and one fsync; whatever must wait for "stored" (the
     * log line, passing it on) waits on the future. Only when {@link #MAX_UNWRITTEN} wait for
     * the disk does the caller wait too.
     *
     * @throws IllegalArgumentException when the text is not Unicode, so UTF-8 cannot hold it
     */
    CompletableFuture<Void> add(TransactionDigest digest, String transactionJson) throws InterruptedException {
        byte[] line = utf8(transactionJson);
        poolLock.lock();
        try {
            while (true) {
                if (closed) {
                    return CompletableFuture.failedFuture(new IllegalStateException("the pool is closed; " + digest + " was not stored"));
                }
                if (index.contains(digest) || pending.containsKey(digest)) {
                    return null;
                }
                if (pending.size() < MAX_UNWRITTEN) {
                    break;
                }
                written.await();   // a disk far slower than the network makes the caller wait
            }
            CompletableFuture<Void> onDisk = new CompletableFuture<>();
            pending.put(digest, new Pending(line, onDisk));
            bytes += line.length + 2;
            unwritten.signal();
            return onDisk;
        } finally {
            poolLock.unlock();
        }
    }

    /** The text in UTF-8, refusing what is not Unicode: getBytes would write a lone surrogate as '?'. */
    private static byte[] utf8(String text) {
        try {
            ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).encode(CharBuffer.wrap(text));
            byte[] line = new byte[encoded.remaining()];
            encoded.get(line);
            return line;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("it is not Unicode text (a lone surrogate?), so it cannot be stored as UTF-8");
        }
    }

    /** What one append writes, in the order added; {@code first} when the file holds no transaction yet. */
    record Batch(List<Map.Entry<TransactionDigest, Pending>> entries, boolean first) {
    }

    /** Waits for transactions to write; null once the pool is closed and nothing is left to write. */
    Batch nextBatch() {
        poolLock.lock();
        try {
            while (pending.isEmpty() && !closed) {
                // Woken by add() or close(). Never stopped by an interrupt: one arriving in
                // append() would close the file channel and lose the batch it was writing.
                unwritten.awaitUninterruptibly();
            }
            return pending.isEmpty() ? null : new Batch(List.copyOf(pending.entrySet()), index.count() == 0);
        } finally {
            poolLock.unlock();
        }
    }

    /** The batch is on disk from {@code offset} on: its lines join the index, its bytes leave the heap, and whoever waits is told. */
    void wrote(Batch batch, long offset) {
        poolLock.lock();
        try {
            for (Map.Entry<TransactionDigest, Pending> each : batch.entries()) {
                index.add(each.getKey(), offset, each.getValue().line().length);
                offset += each.getValue().line().length + 2;
                pending.remove(each.getKey());
            }
            written.signalAll();
        } finally {
            poolLock.unlock();
        }
        batch.entries().forEach(each -> each.getValue().onDisk().complete(null));
    }

    /** The batch could not be written: not on disk, so not stored; forgotten, so that a later copy may try again. */
    void failed(Batch batch, Throwable e) {
        log.log(WARNING, "cannot write " + file + ": " + e);
        UncheckedIOException failure = new UncheckedIOException("cannot write " + file + ": " + e.getMessage(),
                e instanceof IOException io ? io : new IOException(e));
        poolLock.lock();
        try {
            for (Map.Entry<TransactionDigest, Pending> each : batch.entries()) {
                pending.remove(each.getKey());
                bytes -= each.getValue().line().length + 2;
            }
            written.signalAll();
        } finally {
            poolLock.unlock();
        }
        batch.entries().forEach(each -> each.getValue().onDisk().completeExceptionally(failure));
    }

    /** Refuses new transactions, and returns once the writer has put every one added before on disk (or after 5 s). */
    void close() throws InterruptedException {
        poolLock.lock();
        try {
            closed = true;
            unwritten.signal();
            written.signalAll();   // an add() waiting for room gives up: the pool is closed
        } finally {
            poolLock.unlock();
        }
        writer.join(5_000);
    }

    // --- what the node and catch-up ask --------------------------------------------------------

    /** The transactions' size in bytes, as the file holds them (those waiting for the disk too). */
    long bytes() {
        return locked(() -> bytes);
    }

    /** Transactions held: on disk, and waiting for it. */
    int held() {
        return locked(() -> index.count() + pending.size());
    }

    boolean contains(TransactionDigest digest) {
        return locked(() -> index.contains(digest) || pending.containsKey(digest));
    }

    /** Transactions on disk. */
    int count() {
        return locked(() -> index.count());
    }

    /** A copy of the 256 bucket digests of everything on disk ({@link PoolIndex}). */
    long[] bucketDigests() {
        return locked(() -> index.bucketDigests());
    }

    /** Where the transaction stands in the order stored, or -1 when it is not on disk. */
    int positionOf(TransactionDigest digest) {
        return locked(() -> index.positionOf(digest));
    }

    /** The digest of the transaction stored at {@code position}. */
    TransactionDigest digestAt(int position) {
        return locked(() -> index.digestAt(position));
    }

    /** How many transactions on disk fall in one of catch-up's buckets. */
    int bucketSize(int bucket) {
        return locked(() -> index.bucketSize(bucket));
    }

    /** Up to {@code max} positions in the bucket, from its {@code from}-th on ({@link PoolIndex#positionsInBucket}). */
    int[] positionsInBucket(int bucket, int from, int max) {
        return locked(() -> index.positionsInBucket(bucket, from, max));
    }

    /** The size of the transaction's line at {@code position}, in bytes. */
    int lineLength(int position) {
        return locked(() -> index.lineLength(position));
    }

    /** Reads what the pool holds under its lock: a short step, never a disk read. */
    private <T> T locked(Supplier<T> read) {
        poolLock.lock();
        try {
            return read.get();
        } finally {
            poolLock.unlock();
        }
    }

    /** The transaction's JSON text, or null when the pool does not hold it; a stored one is read from the file. */
    String transactionJson(TransactionDigest digest) {
        try (Reader reader = reader()) {
            return reader.transactionJson(digest);
        }
    }

    /** A reader for a loop that sends many transactions (catch-up, a GRAFT's answer): one open file for all of them. */
    Reader reader() {
        return new Reader();
    }

    /** Reads stored transactions back through one file channel, opened at the first read. */
    final class Reader implements AutoCloseable {
        private FileChannel channel;

        /** As {@link TransactionPool#transactionJson}: null when the pool does not hold it, or it cannot be read. */
        String transactionJson(TransactionDigest digest) {
            poolLock.lock();
            int position;
            try {
                Pending waiting = pending.get(digest);
                if (waiting != null) {
                    return new String(waiting.line(), StandardCharsets.UTF_8);
                }
                position = index.positionOf(digest);
            } finally {
                poolLock.unlock();
            }
            return position < 0 ? null : transactionAt(position);
        }

        /** The transaction stored at {@code position}, read from the file; null (logged) when it cannot be read. */
        String transactionAt(int position) {
            long start;
            int length;
            poolLock.lock();
            try {
                start = index.lineStart(position);
                length = index.lineLength(position);
            } finally {
                poolLock.unlock();
            }
            try {
                if (channel == null) {
                    channel = FileChannel.open(file, StandardOpenOption.READ);
                }
                return read(channel, start, length);
            } catch (IOException e) {
                log.log(WARNING, "cannot read the transaction at byte " + start + " back from " + file + ": " + e.getMessage());
                return null;
            }
        }

        @Override
        public void close() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    // a channel only read from: nothing was left unwritten
                }
            }
        }
    }

    /** The stored transactions, in the order they were stored, read from the file. */
    List<JsonObject> transactions() {
        return lastTransactions(Integer.MAX_VALUE);
    }

    /** The last {@code n} stored transactions, newest last. */
    List<JsonObject> lastTransactions(int n) {
        int end = count();
        List<JsonObject> last = new ArrayList<>();
        try (Reader reader = reader()) {
            for (int position = Math.max(0, end - n); position < end; position++) {
                String json = reader.transactionAt(position);   // null: it could not be read (logged)
                if (json != null) {
                    last.add(JsonParser.parseString(json).getAsJsonObject());
                }
            }
        }
        return last;
    }

    private static String read(FileChannel channel, long start, int length) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(length);
        while (bytes.hasRemaining()) {
            if (channel.read(bytes, start + bytes.position()) < 0) {
                throw new EOFException("the file ends before the transaction at byte " + start);
            }
        }
        return new String(bytes.array(), StandardCharsets.UTF_8);
    }
}
