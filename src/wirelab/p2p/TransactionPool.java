package wirelab.p2p;

import static java.lang.System.Logger.Level.WARNING;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.AtomicFile;

/**
 * A node's transaction pool: every transaction it stored, in the order it stored them, kept in
 * {@code transactions.json} as a JSON array with one transaction a line:
 *
 * <pre>
 * [
 * {"id":"tx-1","from":"alice","to":"bob","amount":5},
 * {"from":"carol","to":"dave","amount":7}
 * ]
 * </pre>
 *
 * {@link PeerNode} decides what to store; this file makes "stored" mean something:
 * <ul>
 * <li>each transaction is stored once, by its id ({@link TransactionId}), even across restarts:
 *     a file that holds one id twice (edited by hand) is read as one transaction, and written
 *     back with it once;
 * <li>a transaction counts as stored only once it is on disk: the future {@link #add} returns
 *     completes after the fsync, and only then is it counted, logged and passed on;
 * <li>storing costs the size of the new transactions, not of the pool: they are appended in
 *     place of the closing {@code "\n]\n"}, which is written again after them. One writer thread
 *     does it; whatever arrived while it wrote goes in its next append (one write, one fsync).
 * </ul>
 *
 * The heap holds what the node needs to find and serve transactions, not their text: each
 * stored id with where its line stands in the file (offset and length), the ids' digest, and
 * the text of those added but not yet on disk (at most {@link #MAX_UNWRITTEN}). A transaction
 * that catch-up, a GRAFT or the live view asks for is read back from the file. Start-up reads
 * the file as a stream, a line at a time ({@link PoolFile}).
 *
 * <p>What a crash can leave: an append cut short, so the file ends in a line that is half a
 * transaction and has no closing bracket. Every line before it was fsynced whole. On start,
 * {@link #load} keeps every whole line, drops the cut one (it was never reported as stored),
 * and writes the file back whole through {@link AtomicFile}, so the node starts from valid JSON.
 *
 * <p>For catch-up ({@link CatchUp}) the pool also keeps a digest of its ids: each id's SHA-256
 * puts it in one of 256 buckets (its first byte) and adds its next 8 bytes to that bucket's
 * digest by XOR. Two pools with the same ids have the same digests; XOR makes adding an id one
 * step, whatever the pool's size.
 */
final class TransactionPool {

    private static final System.Logger log = System.getLogger("peer-node");
    static final int BUCKETS = 256;
    private static final String CLOSING = PoolFile.CLOSING;

    private final Path file;
    private final ReentrantLock poolLock = new ReentrantLock();   // guards everything below but the file

    /** Most transactions added and not yet on disk; past it, add() waits for the writer. */
    static final int MAX_UNWRITTEN = 10_000;
    private final Condition unwritten = poolLock.newCondition();   // added: the writer has work, or the pool closed
    private final Condition written = poolLock.newCondition();     // an append ended: room to add again
    private final Map<String, CompletableFuture<Void>> onDiskById = new HashMap<>();   // what to tell when each is on disk
    private boolean closed;
    private Thread writer;   // the only thread that touches the file after load
    private final List<String> ids = new ArrayList<>();           // in the order added: the file's order
    /** Where a stored transaction's line stands in the file. */
    private record Line(long offset, int length) {
    }
    private final Map<String, Line> lineById = new HashMap<>();               // the first storedCount ids
    private final Map<String, String> unwrittenById = new HashMap<>();        // the rest: their text, until on disk
    private final List<Set<String>> idsByBucket = new ArrayList<>();
    private final long[] bucketDigests = new long[BUCKETS];
    private int storedCount;   // the first storedCount ids are on disk
    private long fileLength;   // bytes of the file as last fsynced, ending in the closing bracket
    private long bytes;        // the transactions' JSON, in UTF-8: about the size of the file

    private TransactionPool(Path file) {
        this.file = file;
        for (int i = 0; i < BUCKETS; i++) {
            idsByBucket.add(new HashSet<>());
        }
    }

    /** The pool in {@code file}, repaired if a crash cut its last append short; an empty one when there is no file. */
    static TransactionPool load(Path file) throws IOException {
        PoolFile.prepare(file);
        TransactionPool pool = new TransactionPool(file);
        PoolFile.Scan scan = PoolFile.scan(file, null, pool::keepStored);
        if (scan.cut() && PoolFile.isSmallJson(file)) {
            PoolFile.rewriteOneALine(file);   // not cut by a crash after all: a whole array, laid out by hand
            pool = new TransactionPool(file);
            scan = PoolFile.scan(file, null, pool::keepStored);
        } else if (scan.cut()) {
            log.log(WARNING, file + " ended in an append cut short by a crash: kept " + scan.kept()
                    + " whole transactions, dropped line " + scan.cutAtLine() + " and the rest");
        }
        if (!scan.canonical()) {   // new, repaired, with duplicates, or written by hand: written back canonical
            TransactionPool again = new TransactionPool(file);
            PoolFile.Scan[] written = new PoolFile.Scan[1];
            AtomicFile.write(file, out -> written[0] = PoolFile.scan(file, out, again::keepStored));
            pool = again;
            scan = written[0];
        }
        pool.fileLength = scan.fileLength();
        pool.storedCount = pool.ids.size();
        pool.writer = Thread.ofVirtual().name("pool-writer").start(pool::writeLoop);
        return pool;
    }

    /** A line read at start: kept, unless its id is already held (false). */
    private boolean keepStored(String id, long offset, int length) {
        if (lineById.containsKey(id)) {
            return false;
        }
        rememberStored(id, new Line(offset, length));
        return true;
    }

    /**
     * Adds the transaction (its JSON text, one line) and returns at once: null when its id is
     * already in the pool, else a future that completes once the transaction is on disk, or
     * fails if its append did (then the pool forgets it, and a later copy may try again) or the
     * pool is closed. The caller goes on reading while the pool's writer works, so transactions
     * that arrive together share one append and one fsync; whatever must wait for "stored" (the
     * log line, passing it on) waits on the future. Only when {@link #MAX_UNWRITTEN} wait for
     * the disk does the caller wait too.
     */
    CompletableFuture<Void> add(String id, String transactionJson) throws InterruptedException {
        poolLock.lock();
        try {
            while (true) {
                if (closed) {
                    return CompletableFuture.failedFuture(new IllegalStateException("the pool is closed; " + id + " was not stored"));
                }
                if (lineById.containsKey(id) || unwrittenById.containsKey(id)) {
                    return null;
                }
                if (ids.size() - storedCount < MAX_UNWRITTEN) {
                    break;
                }
                written.await();   // a disk far slower than the network makes the caller wait
            }
            remember(id, transactionJson);
            CompletableFuture<Void> onDisk = new CompletableFuture<>();
            onDiskById.put(id, onDisk);
            unwritten.signal();
            return onDisk;
        } finally {
            poolLock.unlock();
        }
    }

    /**
     * The pool's one writer: takes every transaction added and not yet written, appends them in
     * one write and one fsync, then says so; and again, until the pool is closed and all that was
     * added before is on disk. It writes in the order the pool added them, the order of
     * {@code ids}, which is the order of the file.
     */
    private void writeLoop() {
        while (true) {
            List<String> batch;
            List<String> texts = new ArrayList<>();
            poolLock.lock();
            try {
                while (storedCount == ids.size() && !closed) {
                    // Woken by add() or close(). Never stopped by an interrupt: one arriving in
                    // append() would close the file channel and lose the batch it was writing.
                    unwritten.awaitUninterruptibly();
                }
                if (storedCount == ids.size()) {
                    return;   // closed, and nothing is left to write
                }
                batch = List.copyOf(ids.subList(storedCount, ids.size()));
                batch.forEach(id -> texts.add(unwrittenById.get(id)));
            } finally {
                poolLock.unlock();
            }
            try {
                long offset = append(texts);
                List<CompletableFuture<Void>> done = new ArrayList<>();
                poolLock.lock();
                try {
                    for (int i = 0; i < batch.size(); i++) {   // on disk now: the text leaves the heap
                        int length = OutgoingConnection.utf8Length(texts.get(i));
                        lineById.put(batch.get(i), new Line(offset, length));
                        unwrittenById.remove(batch.get(i));
                        offset += length + 2;
                    }
                    storedCount += batch.size();
                    batch.forEach(id -> done.add(onDiskById.remove(id)));
                    written.signalAll();
                } finally {
                    poolLock.unlock();
                }
                done.forEach(onDisk -> onDisk.complete(null));
            } catch (IOException | RuntimeException | OutOfMemoryError e) {
                // Whatever went wrong, this batch is not stored, and the writer lives on: a node
                // whose writer died would take transactions it can never store.
                log.log(WARNING, "cannot write " + file + ": " + e);
                UncheckedIOException failure = new UncheckedIOException("cannot write " + file + ": " + e.getMessage(),
                        e instanceof IOException io ? io : new IOException(e));
                List<CompletableFuture<Void>> failed = new ArrayList<>();
                poolLock.lock();
                try {   // not on disk, so not stored: forgotten, so that a later copy may try again
                    ids.subList(storedCount, storedCount + batch.size()).clear();   // the batch was the first ids not on disk
                    batch.forEach(id -> {
                        forget(id);
                        failed.add(onDiskById.remove(id));
                    });
                    written.signalAll();
                } finally {
                    poolLock.unlock();
                }
                failed.forEach(onDisk -> onDisk.completeExceptionally(failure));
            }
        }
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

    /**
     * Writes the batch where the closing bracket stood, the bracket after it, then forces it to
     * disk; returns where the batch's first line starts. If that fails half-way (a full disk),
     * the file is cut back to where it was and the bracket written again, so the next append
     * starts from a valid file.
     */
    private long append(List<String> batch) throws IOException {   // on the writer thread only
        boolean wasEmpty = storedCount == 0;
        String text = (wasEmpty ? "" : ",\n") + String.join(",\n", batch) + CLOSING;
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        String closing = wasEmpty ? "]\n" : CLOSING;
        long start = fileLength - closing.length();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            try {
                for (long position = start; bytes.hasRemaining(); ) {
                    position += channel.write(bytes, position);
                }
                channel.force(false);   // fdatasync: the data, and the new length with it
                fileLength = start + bytes.limit();
                return start + (wasEmpty ? 0 : 2);
            } catch (IOException e) {
                channel.truncate(start);
                channel.write(ByteBuffer.wrap(closing.getBytes(StandardCharsets.UTF_8)), start);
                channel.force(false);
                throw e;
            }
        }
    }

    /** An id added and not yet on disk: its text is held until the writer has appended it. */
    private void remember(String id, String transactionJson) {
        unwrittenById.put(id, transactionJson);
        addId(id, OutgoingConnection.utf8Length(transactionJson));
    }

    /** An id read from the file at start: where its line is. */
    private void rememberStored(String id, Line line) {
        lineById.put(id, line);
        addId(id, line.length());
    }

    private void addId(String id, int length) {
        ids.add(id);
        bytes += length + 2;   // and ",\n"
        byte[] hash = TransactionId.sha256(id);
        int bucket = hash[0] & 0xFF;
        idsByBucket.get(bucket).add(id);
        bucketDigests[bucket] ^= ByteBuffer.wrap(hash, 1, 8).getLong();
    }

    /** Undoes remember() but for {@code ids}, which the caller cuts as one block (removing ids one by one costs the pool's size each). */
    private void forget(String id) {
        bytes -= OutgoingConnection.utf8Length(unwrittenById.remove(id)) + 2;
        byte[] hash = TransactionId.sha256(id);
        int bucket = hash[0] & 0xFF;
        idsByBucket.get(bucket).remove(id);
        bucketDigests[bucket] ^= ByteBuffer.wrap(hash, 1, 8).getLong();   // XOR undoes itself
    }

    // --- what the node and catch-up ask --------------------------------------------------------

    /** The transactions' size in bytes, as the file holds them. */
    long bytes() {
        poolLock.lock();
        try {
            return bytes;
        } finally {
            poolLock.unlock();
        }
    }

    boolean contains(String id) {
        poolLock.lock();
        try {
            return lineById.containsKey(id) || unwrittenById.containsKey(id);
        } finally {
            poolLock.unlock();
        }
    }

    /** The transaction's JSON text, or null when the pool does not hold it; a stored one is read from the file. */
    String transactionJson(String id) {
        try (Reader reader = reader()) {
            return reader.transactionJson(id);
        }
    }

    /** A reader for a loop that sends many transactions (catch-up): one open file for all of them. */
    Reader reader() {
        return new Reader();
    }

    /** Reads stored transactions back through one file channel, opened at the first read. */
    final class Reader implements AutoCloseable {
        private FileChannel channel;

        /** As {@link TransactionPool#transactionJson}: null when the pool does not hold it, or it cannot be read. */
        String transactionJson(String id) {
            Line line;
            poolLock.lock();
            try {
                String unwritten = unwrittenById.get(id);
                if (unwritten != null) {
                    return unwritten;
                }
                line = lineById.get(id);
            } finally {
                poolLock.unlock();
            }
            if (line == null) {
                return null;
            }
            try {
                if (channel == null) {
                    channel = FileChannel.open(file, StandardOpenOption.READ);
                }
                return read(channel, line);
            } catch (IOException e) {
                log.log(WARNING, "cannot read transaction " + id + " back from " + file + ": " + e.getMessage());
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
        List<String> stored;
        poolLock.lock();
        try {
            stored = List.copyOf(ids.subList(Math.max(0, storedCount - n), storedCount));
        } finally {
            poolLock.unlock();
        }
        try (Reader reader = reader()) {
            return stored.stream().map(reader::transactionJson).filter(Objects::nonNull)   // null: it could not be read (logged)
                    .map(json -> JsonParser.parseString(json).getAsJsonObject()).toList();
        }
    }

    private static String read(FileChannel channel, Line line) throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(line.length());
        while (bytes.hasRemaining()) {
            if (channel.read(bytes, line.offset() + bytes.position()) < 0) {
                throw new EOFException("the file ends before the transaction at byte " + line.offset());
            }
        }
        return new String(bytes.array(), StandardCharsets.UTF_8);
    }

    int count() {
        poolLock.lock();
        try {
            return storedCount;
        } finally {
            poolLock.unlock();
        }
    }

    /** A copy of the 256 bucket digests. */
    long[] bucketDigests() {
        poolLock.lock();
        try {
            return bucketDigests.clone();
        } finally {
            poolLock.unlock();
        }
    }

    /** The ids in one bucket. */
    Set<String> idsInBucket(int bucket) {
        poolLock.lock();
        try {
            return Set.copyOf(idsByBucket.get(bucket));
        } finally {
            poolLock.unlock();
        }
    }

    /** Which bucket an id belongs to: the first byte of its SHA-256. */
    static int bucketOf(String id) {
        return TransactionId.sha256(id)[0] & 0xFF;
    }
}
