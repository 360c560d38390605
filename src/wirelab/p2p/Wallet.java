package wirelab.p2p;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.HexFormat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.AtomicFile;

/**
 * A key pair in a file, and the transactions signed with it ({@link SignedTransaction}): what
 * the curriculum's "Learn Digital Signatures by Building a Wallet" builds, on Ed25519. The file
 * is a node folder's {@code wallet.json} unless another is named, made at first use, readable
 * by its owner alone (mode 600), and its private key is never printed or logged:
 *
 * <pre>
 * {"publicKey": "d75a98...511a", "privateKey": "9d61b1...7f60"}     each 32 bytes, lower-case hex;
 *                                                                    the private key is RFC 8032's seed
 * </pre>
 */
public final class Wallet {

    /** A PKCS#8 PrivateKeyInfo for an Ed25519 key is this prefix and then the 32-byte seed (RFC 8410). */
    private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");

    private final String publicKeyHex;
    private final PrivateKey privateKey;

    private Wallet(String publicKeyHex, PrivateKey privateKey) {
        this.publicKeyHex = publicKeyHex;
        this.privateKey = privateKey;
    }

    /** The wallet in {@code file}, made there (owner-only) when there is none. */
    public static Wallet openOrCreate(Path file) throws IOException {
        if (!Files.exists(file)) {
            create(file);
        }
        try {
            JsonObject keys = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            String publicKey = keys.get(SignedTransaction.PUBLIC_KEY).getAsString();
            byte[] seed = HexFormat.of().parseHex(keys.get("privateKey").getAsString());
            if (seed.length != 32 || publicKey.length() != 64) {
                throw new IOException("keys of the wrong length");
            }
            byte[] encoded = new byte[PKCS8_PREFIX.length + seed.length];
            System.arraycopy(PKCS8_PREFIX, 0, encoded, 0, PKCS8_PREFIX.length);
            System.arraycopy(seed, 0, encoded, PKCS8_PREFIX.length, seed.length);
            return new Wallet(publicKey, KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(encoded)));
        } catch (RuntimeException | GeneralSecurityException e) {   // a hand-edited file; its content is never repeated
            throw new IOException(file + " is not a wallet: expected {\"publicKey\": 64 hex digits, \"privateKey\": 64 hex digits}");
        }
    }

    private static void create(Path file) throws IOException {
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK since 15 has Ed25519", e);
        }
        byte[] pkcs8 = pair.getPrivate().getEncoded();
        JsonObject keys = new JsonObject();
        keys.addProperty(SignedTransaction.PUBLIC_KEY, HexFormat.of().formatHex(SignedTransaction.raw(pair.getPublic())));
        keys.addProperty("privateKey", HexFormat.of().formatHex(pkcs8, PKCS8_PREFIX.length, pkcs8.length));
        AtomicFile.writeSecret(file, out -> out.write((keys + "\n").getBytes(StandardCharsets.UTF_8)));   // owner-only from its first byte
    }

    /** The transaction signed: {@code publicKey} set to this wallet's, {@code signature} over the rest. */
    public JsonObject sign(JsonObject transaction) {
        JsonObject signed = transaction.deepCopy();
        signed.remove(SignedTransaction.SIGNATURE);
        signed.addProperty(SignedTransaction.PUBLIC_KEY, publicKeyHex);
        try {
            Signature ed25519 = Signature.getInstance("Ed25519");
            ed25519.initSign(privateKey);
            ed25519.update(SignedTransaction.signedBytes(signed));
            signed.addProperty(SignedTransaction.SIGNATURE, HexFormat.of().formatHex(ed25519.sign()));
            return signed;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 failed to sign: " + e.getMessage(), e);
        }
    }

    public String publicKey() {
        return publicKeyHex;
    }

}
