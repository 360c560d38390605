package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static wirelab.p2p.NodeUnderAttackTest.await;
import static wirelab.p2p.NodeUnderAttackTest.httpGet;
import static wirelab.p2p.PeerNodeTest.freePort;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.websocket.RawWebSocket;

/**
 * Transactions no stranger can forge, alter or squat, across node processes: an id is only a
 * name, a transaction is its content's digest, and a signed one must verify on every node.
 */
@Timeout(120)
class SignedGossipTest {

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopEverything() throws InterruptedException {
        for (Process process : processes) {
            process.destroy();
        }
        for (Process process : processes) {
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * Mallory sends her own pay-3 to node C before Alice's signed pay-3 reaches node A; a relay
     * alters Alice's amount and keeps her signature; another signs an altered copy with his own
     * key but leaves Alice's publicKey. Every node holds Alice's pay-3 and Mallory's, and
     * nothing forged; each forgery is refused and counted where it was sent.
     */
    @Test
    void aSquatterNeverKeepsATransactionFromANodeAndAForgeryIsStoredNowhere() throws Exception {
        List<Integer> ports = List.of(freePort(), freePort(), freePort());
        for (int k = 0; k < 3; k++) {
            startNode("node-" + k, ports.get(k), k == 0 ? List.of() : List.of(ports.get(0)), "");
        }
        await(() -> ports.stream().allMatch(port -> neighbours(port) == 2), 30, "three nodes in a full mesh");
        Wallet alice = Wallet.openOrCreate(dir.resolve("alice.json"));
        Wallet mallory = Wallet.openOrCreate(dir.resolve("mallory.json"));
        JsonObject honest = alice.sign(json("{\"id\":\"pay-3\",\"from\":\"alice\",\"to\":\"bob\",\"amount\":30}"));
        JsonObject squatter = json("{\"id\":\"pay-3\",\"from\":\"alice\",\"to\":\"mallory\",\"amount\":9999}");
        JsonObject altered = honest.deepCopy();
        altered.addProperty("amount", 9999);
        JsonObject rekeyed = mallory.sign(altered);
        rekeyed.add("publicKey", honest.get("publicKey"));
        send(ports.get(2), squatter);   // first, at another node
        Thread.sleep(300);
        send(ports.get(0), honest);
        send(ports.get(1), altered);
        send(ports.get(1), rekeyed);
        for (int port : ports) {
            await(() -> pool(port).size() == 2, 10, "node on " + port + " holds the honest pay-3 and the squatter's");
        }
        Thread.sleep(500);
        for (int port : ports) {
            List<JsonObject> pool = pool(port);
            assertEquals(2, pool.size(), "nothing forged is stored: " + pool);
            assertTrue(pool.contains(honest), "Alice's pay-3, as she signed it, on " + port);
            assertTrue(pool.contains(squatter), "and Mallory's, which is another transaction");
        }
        String status = httpGet(ports.get(1), "/status");
        assertTrue(status.contains("\"a signature that does not verify\":2"), status);
    }

    /**
     * Two nodes that took different bodies under one id before they met hold both once they do:
     * catch-up tells the bodies apart by their digests, and nothing accepted is lost.
     */
    @Test
    void twoNodesThatTookDifferentBodiesUnderOneIdHoldBothOnceTheyMeet() throws Exception {
        int first = freePort();
        int second = freePort();
        startNode("first", first, List.of(), "");
        send(first, json("{\"id\":\"same-name\",\"to\":\"bob\",\"amount\":1}"));
        startNode("second", second, List.of(), "");
        send(second, json("{\"id\":\"same-name\",\"to\":\"carol\",\"amount\":2}"));
        await(() -> pool(first).size() == 1 && pool(second).size() == 1, 10, "each holds its own");
        processes.remove(processes.size() - 1).destroy();   // the second comes back knowing the first
        Thread.sleep(500);
        startNode("second", second, List.of(first), "");
        await(() -> pool(first).size() == 2 && pool(second).size() == 2, 20,
                "both hold both bodies: " + pool(first) + " / " + pool(second));
    }

    /**
     * REQUIRE_SIGNATURES=true refuses what is unsigned, with a counted reason, and takes what
     * add-transaction.sh signs with the node folder's wallet: a key file made at first use,
     * readable by its owner only, whose private key appears in no output and no log.
     */
    @Test
    void aNodeThatRequiresSignaturesTakesWhatTheWalletSignsOnly() throws Exception {
        int port = freePort();
        Path folder = startNode("strict", port, List.of(), "REQUIRE_SIGNATURES=true\n");
        send(port, json("{\"id\":\"unsigned-one\",\"amount\":1}"));
        await(() -> httpGet(port, "/status").contains("\"unsigned (REQUIRE_SIGNATURES)\":1"), 10, "the unsigned one refused");
        Process add = new ProcessBuilder("scripts/add-transaction.sh", folder.toString(), "{\"from\":\"alice\",\"amount\":5}")
                .redirectErrorStream(true).start();
        String output = new String(add.getInputStream().readAllBytes());
        assertEquals(0, add.waitFor(), output);
        await(() -> pool(port).size() == 1, 10, "the signed one stored");
        JsonObject stored = pool(port).get(0);
        assertEquals(SignedTransaction.Verdict.VERIFIED, SignedTransaction.check(stored));
        Path wallet = folder.resolve("wallet.json");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(wallet)));
        String privateKey = JsonParser.parseString(Files.readString(wallet)).getAsJsonObject().get("privateKey").getAsString();
        assertFalse(output.contains(privateKey), "the private key is never printed");
        assertFalse(Files.readString(dir.resolve("strict.log")).contains(privateKey), "nor logged");
        assertEquals(stored.get("publicKey").getAsString(),
                JsonParser.parseString(Files.readString(wallet)).getAsJsonObject().get("publicKey").getAsString());
    }

    // --- helpers ----------------------------------------------------------------------------------

    private Path startNode(String name, int port, List<Integer> knownPorts, String env) throws IOException, InterruptedException {
        Path folder = Files.createDirectories(dir.resolve(name));
        Files.writeString(folder.resolve(".env"), "PORT=" + port + "\n" + env);
        Files.writeString(folder.resolve("known-peers.json"),
                "[" + String.join(",", knownPorts.stream().map(p -> "\"ws://localhost:" + p + "\"").toList()) + "]");
        processes.add(new ProcessBuilder("scripts/run-node.sh", folder.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile()).start());
        await(() -> httpGet(port, "/status").contains("transactionCount"), 30, name + " is up");
        return folder;
    }

    private static void send(int port, JsonObject transaction) throws IOException {
        try (RawWebSocket client = RawWebSocket.open(port)) {
            client.sendText("{\"type\":\"TRANSACTION\",\"data\":" + transaction + "}");
        }
    }

    private List<JsonObject> pool(int port) {
        for (Path folder : List.of(dir.resolve("node-0"), dir.resolve("node-1"), dir.resolve("node-2"), dir.resolve("first"),
                dir.resolve("second"), dir.resolve("strict"))) {
            try {
                if (Files.readString(folder.resolve(".env")).contains("PORT=" + port + "\n")) {
                    List<JsonObject> pool = new ArrayList<>();
                    for (JsonElement each : JsonParser.parseString(Files.readString(folder.resolve("transactions.json"))).getAsJsonArray()) {
                        pool.add(each.getAsJsonObject());
                    }
                    return pool;
                }
            } catch (IOException | RuntimeException e) {
                // not this folder, or the file is being replaced: look again
            }
        }
        return List.of();
    }

    private static int neighbours(int port) {
        String status = httpGet(port, "/status");
        int body = status.indexOf("\r\n\r\n");
        return body < 0 ? 0 : JsonParser.parseString(status.substring(body + 4)).getAsJsonObject().getAsJsonArray("neighbours").size();
    }

    private static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }
}
