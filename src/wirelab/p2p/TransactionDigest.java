package wirelab.p2p;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import com.google.gson.JsonObject;

/**
 * What a transaction is, to the pool and on the wire: the first 128 bits of the SHA-256 of its
 * canonical JSON ({@link CanonicalJson}, RFC 8785), written as 32 lower-case hex digits. IHAVE,
 * GRAFT and the catch-up messages list these in their {@code ids}.
 *
 * <p>Bound to the content, as Bitcoin's txid is: a body sent under another transaction's
 * {@code id} field has another digest, so it is another transaction, and can never keep the
 * first one from a node; two nodes that took different bodies under one {@code id} hold both
 * once they meet. A curriculum node, which compares transactions by content, agrees with it on
 * which copies are the same. The {@code id} field itself is only a name for people
 * ({@link TransactionId}).
 *
 * <p>Why 128 bits and not all 256: the pool keeps every digest in the heap, two longs each
 * ({@link PoolIndex}); finding two bodies with one digest takes about 2^64 hashes, and finding
 * a body with a given transaction's digest about 2^128.
 */
record TransactionDigest(long high, long low) {

    /** The digest of a transaction; an IllegalArgumentException says why it has none (text that is not Unicode). */
    static TransactionDigest of(JsonObject transaction) {
        byte[] hash;
        try {
            hash = MessageDigest.getInstance("SHA-256").digest(CanonicalJson.of(transaction).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
        ByteBuffer bytes = ByteBuffer.wrap(hash);
        return new TransactionDigest(bytes.getLong(), bytes.getLong());
    }

    /** A digest written as 32 lower-case hex digits, as the wire carries it; null when {@code text} is not one. */
    static TransactionDigest parse(String text) {
        if (text.length() != 32) {
            return null;
        }
        for (int i = 0; i < 32; i++) {
            char c = text.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return null;
            }
        }
        return new TransactionDigest(HexFormat.fromHexDigitsToLong(text, 0, 16), HexFormat.fromHexDigitsToLong(text, 16, 32));
    }

    /** Which of the pool's 256 catch-up buckets it falls in: its first byte. */
    int bucket() {
        return (int) (high >>> 56);
    }

    @Override
    public String toString() {
        return HexFormat.of().toHexDigits(high) + HexFormat.of().toHexDigits(low);
    }
}
