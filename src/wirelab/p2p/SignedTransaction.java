package wirelab.p2p;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * A signed transaction, stated here once so that other implementations can make and check them:
 * a transaction object with two more fields,
 *
 * <pre>
 * "publicKey"   the author's Ed25519 public key (RFC 8032), its raw 32 bytes as 64 lower-case hex digits
 * "signature"   Ed25519's 64-byte signature as 128 lower-case hex digits, over the UTF-8 bytes of the
 *               RFC 8785 canonical JSON of the transaction without its "signature" field (with "publicKey")
 *
 * {"amount":5,"from":"alice","id":"tx-1","publicKey":"d75a98...511a","to":"bob"}   <- the signed bytes
 * {"id":"tx-1","from":"alice","to":"bob","amount":5,"publicKey":"d75a...","signature":"e556..."}
 * </pre>
 *
 * An object with either field must carry both, well formed, and verify, or it is refused; a
 * verified one is stored and passed on as it came, every field kept. Canonical JSON makes the
 * signed bytes independent of key order, spacing and number spelling, and leaves no room for
 * the curriculum wallet's ambiguity (it signs {@code from + to + amount} run together, so that
 * "a" + "bc" signs as "ab" + "c"). Verification is the JDK's own Ed25519 ({@code Signature}).
 * A transaction's digest ({@link TransactionDigest}) covers the signature too, so a copy altered
 * in any field is another transaction, and one that fails here.
 */
final class SignedTransaction {

    static final String PUBLIC_KEY = "publicKey";
    static final String SIGNATURE = "signature";
    /** An X.509 SubjectPublicKeyInfo for an Ed25519 key is this prefix and then the raw 32 bytes (RFC 8410). */
    private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    /** What {@link #check} found. */
    enum Verdict { UNSIGNED, VERIFIED }

    /** Why a transaction's signature is refused: the refusal it counts as, and the words for the log. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final transient Refusal refusal;

        Refused(Refusal refusal, String why) {
            super(why);
            this.refusal = refusal;
        }
    }

    private SignedTransaction() {
    }

    /** UNSIGNED (neither field), VERIFIED, or {@link Refused} with why. */
    static Verdict check(JsonObject transaction) throws Refused {
        JsonElement key = transaction.get(PUBLIC_KEY);
        JsonElement signature = transaction.get(SIGNATURE);
        if (key == null && signature == null) {
            return Verdict.UNSIGNED;
        }
        byte[] keyBytes = hexField(key, 32);
        byte[] signatureBytes = hexField(signature, 64);
        if (keyBytes == null || signatureBytes == null) {
            throw new Refused(Refusal.MALFORMED_SIGNATURE, "a signed transaction needs \"publicKey\" (64 lower-case hex digits)"
                    + " and \"signature\" (128), got " + (key == null ? "no publicKey" : signature == null ? "no signature"
                    : "publicKey of " + key.toString().length() + " characters and signature of " + signature.toString().length()));
        }
        try {
            Signature ed25519 = Signature.getInstance("Ed25519");
            ed25519.initVerify(publicKey(keyBytes));
            ed25519.update(signedBytes(transaction));
            if (ed25519.verify(signatureBytes)) {
                return Verdict.VERIFIED;
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new Refused(Refusal.MALFORMED_SIGNATURE, "its publicKey is not an Ed25519 key (" + e.getMessage() + ")");
        }
        throw new Refused(Refusal.BAD_SIGNATURE, "its signature does not verify against its publicKey: altered, or signed by another key");
    }

    /** The bytes a signature covers: the canonical JSON of the transaction without its signature field. */
    static byte[] signedBytes(JsonObject transaction) {
        JsonObject unsigned = transaction.deepCopy();
        unsigned.remove(SIGNATURE);
        return CanonicalJson.of(unsigned).getBytes(StandardCharsets.UTF_8);
    }

    /** A raw 32-byte Ed25519 public key as the JDK takes it. */
    static PublicKey publicKey(byte[] raw) throws GeneralSecurityException {
        byte[] encoded = new byte[X509_PREFIX.length + raw.length];
        System.arraycopy(X509_PREFIX, 0, encoded, 0, X509_PREFIX.length);
        System.arraycopy(raw, 0, encoded, X509_PREFIX.length, raw.length);
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(encoded));
    }

    /** The raw 32 bytes of an Ed25519 public key: its X.509 encoding, without the fixed prefix. */
    static byte[] raw(PublicKey key) {
        byte[] encoded = key.getEncoded();
        byte[] raw = new byte[encoded.length - X509_PREFIX.length];
        System.arraycopy(encoded, X509_PREFIX.length, raw, 0, raw.length);
        return raw;
    }

    /** The field's bytes when it is a string of exactly 2 x {@code bytes} lower-case hex digits; else null. */
    private static byte[] hexField(JsonElement field, int bytes) {
        if (field == null || !field.isJsonPrimitive() || !field.getAsJsonPrimitive().isString()) {
            return null;
        }
        String text = field.getAsString();
        if (text.length() != 2 * bytes || !text.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
            return null;
        }
        return HexFormat.of().parseHex(text);
    }
}
