package wirelab.p2p;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * The {@link TransactionPool}'s one writer thread, the only one that touches the file after
 * start-up: it takes every transaction added and not yet written, appends them in place of the
 * closing {@code "\n]\n"} ({@link PoolFile}'s layout) in one write and one fsync, then tells the
 * pool, which tells whoever waits; and again, until the pool is closed and all that was added
 * before is on disk. It writes in the order the pool added them, the file's order.
 */
final class PoolWriter implements Runnable {

    private static final byte[] SEPARATOR = PoolFile.SEPARATOR.getBytes(StandardCharsets.US_ASCII);

    private final TransactionPool pool;
    private final Path file;
    private long fileLength;   // bytes of the file as last fsynced, ending in the closing bracket

    PoolWriter(TransactionPool pool, Path file, long fileLength) {
        this.pool = pool;
        this.file = file;
        this.fileLength = fileLength;
    }

    @Override
    public void run() {
        TransactionPool.Batch batch;
        while ((batch = pool.nextBatch()) != null) {
            try {
                pool.wrote(batch, append(batch));
            } catch (IOException | RuntimeException | OutOfMemoryError e) {
                // Whatever went wrong, this batch is not stored, and the writer lives on: a node
                // whose writer died would take transactions it can never store.
                pool.failed(batch, e);
            }
        }
    }

    /**
     * Writes the batch where the closing bracket stood, the bracket after it, then forces it to
     * disk; returns where the batch's first line starts. If that fails half-way (a full disk),
     * the file is cut back to where it was and the bracket written again, so the next append
     * starts from a valid file.
     */
    private long append(TransactionPool.Batch batch) throws IOException {
        boolean first = batch.first();
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        for (Map.Entry<TransactionDigest, TransactionPool.Pending> each : batch.entries()) {
            if (text.size() > 0 || !first) {
                text.write(SEPARATOR);
            }
            text.write(each.getValue().line());
        }
        text.write(PoolFile.CLOSING.getBytes(StandardCharsets.US_ASCII));
        ByteBuffer bytes = ByteBuffer.wrap(text.toByteArray());
        String closing = first ? "]\n" : PoolFile.CLOSING;
        long start = fileLength - closing.length();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            try {
                for (long position = start; bytes.hasRemaining(); ) {
                    position += channel.write(bytes, position);
                }
                channel.force(false);   // fdatasync: the data, and the new length with it
                fileLength = start + bytes.limit();
                return start + (first ? 0 : SEPARATOR.length);
            } catch (IOException e) {
                channel.truncate(start);
                channel.write(ByteBuffer.wrap(closing.getBytes(StandardCharsets.US_ASCII)), start);
                channel.force(false);
                throw e;
            }
        }
    }
}
