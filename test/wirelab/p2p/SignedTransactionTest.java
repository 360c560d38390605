package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Signature;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** The signed-transaction format, held to signatures made outside the JDK's signing code. */
class SignedTransactionTest {

    @TempDir
    Path dir;

    /** RFC 8032, 7.1, TESTs 1 to 3: public key, message, signature, as the RFC prints them. */
    @Test
    void rfc8032sTestVectorsVerifyThroughOurKeyEncoding() throws Exception {
        String[][] vectors = {
            {"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
             "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
            {"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
             "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
            {"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
             "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
        };
        for (String[] vector : vectors) {
            Signature ed25519 = Signature.getInstance("Ed25519");
            ed25519.initVerify(SignedTransaction.publicKey(HexFormat.of().parseHex(vector[0])));
            ed25519.update(HexFormat.of().parseHex(vector[1]));
            assertTrue(ed25519.verify(HexFormat.of().parseHex(vector[2])), vector[0]);
            assertEquals(vector[0], HexFormat.of().formatHex(SignedTransaction.raw(SignedTransaction.publicKey(HexFormat.of().parseHex(vector[0])))));
        }
    }

    /** Signed by Node.js (OpenSSL's Ed25519) over its own canonical JSON: the same bytes, and it verifies here. */
    @Test
    void aTransactionSignedByAnotherImplementationVerifies() throws Exception {
        JsonObject data = JsonParser.parseString(Files.readString(Path.of("test/wirelab/p2p/signed-by-node.json"))).getAsJsonObject();
        JsonObject transaction = data.getAsJsonObject("transaction");
        assertEquals(data.get("canonical").getAsString(), new String(SignedTransaction.signedBytes(transaction), StandardCharsets.UTF_8),
                "both canonical forms are byte for byte the same");
        assertEquals(SignedTransaction.Verdict.VERIFIED, SignedTransaction.check(transaction));
    }

    @Test
    void anAlteredCopyAnotherKeysSignatureAndMalformedFieldsAreRefusedWithTheirReasons() throws Exception {
        JsonObject signed = JsonParser.parseString(Files.readString(Path.of("test/wirelab/p2p/signed-by-node.json")))
                .getAsJsonObject().getAsJsonObject("transaction");
        JsonObject altered = signed.deepCopy();
        altered.addProperty("amount", 9999);
        assertEquals(Refusal.BAD_SIGNATURE, refusal(altered), "an altered amount");
        JsonObject otherKey = Wallet.openOrCreate(dir.resolve("mallory.json")).sign(signed);
        otherKey.add("publicKey", signed.get("publicKey"));   // mallory's signature under alice's key
        assertEquals(Refusal.BAD_SIGNATURE, refusal(otherKey), "a signature by another key");
        for (String[] bad : new String[][] {{"signature", "ab"}, {"publicKey", "XYZ"}, {"signature", null}, {"publicKey", null}}) {
            JsonObject malformed = signed.deepCopy();
            if (bad[1] == null) {
                malformed.remove(bad[0]);
            } else {
                malformed.addProperty(bad[0], bad[1]);
            }
            assertEquals(Refusal.MALFORMED_SIGNATURE, refusal(malformed), bad[0] + " = " + bad[1]);
        }
        assertEquals(SignedTransaction.Verdict.UNSIGNED, SignedTransaction.check(JsonParser.parseString("{\"id\":1}").getAsJsonObject()));
    }

    /** A wallet is made at first use, readable by its owner only, and what it signs verifies; its key is the same next time. */
    @Test
    void aWalletIsMadeOnceForItsOwnerAndWhatItSignsVerifies() throws Exception {
        Path file = dir.resolve("wallet.json");
        Wallet wallet = Wallet.openOrCreate(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        JsonObject signed = wallet.sign(JsonParser.parseString("{\"id\":\"w-1\",\"from\":\"alice\",\"amount\":5}").getAsJsonObject());
        assertEquals(SignedTransaction.Verdict.VERIFIED, SignedTransaction.check(signed));
        assertEquals(wallet.publicKey(), Wallet.openOrCreate(file).publicKey(), "the same key when opened again");
        assertEquals(signed.get("signature"), Wallet.openOrCreate(file).sign(signed).get("signature"), "Ed25519 is deterministic");
        Files.writeString(dir.resolve("broken.json"), "{\"publicKey\":\"00\",\"privateKey\":\"secret-looking-text\"}");
        Exception e = assertThrows(java.io.IOException.class, () -> Wallet.openOrCreate(dir.resolve("broken.json")));
        assertTrue(!e.getMessage().contains("secret-looking-text"), "a key file's content is never repeated: " + e.getMessage());
    }

    private static Refusal refusal(JsonObject transaction) {
        return assertThrows(SignedTransaction.Refused.class, () -> SignedTransaction.check(transaction)).refusal;
    }
}
