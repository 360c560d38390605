package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonParser;

/**
 * The reproduction, as a user runs it: MAX_PEERS=3 in node-1, clone it eleven times
 * with scripts/clone-node.sh, run twelve node processes with scripts/run-node.sh, add
 * transactions to node-7 with scripts/add-transaction.sh: every node holds every one. (Ports
 * are moved to free ones after cloning, so the test never meets a network on 4001-4012.)
 */
@Timeout(180)
class BoundedNetworkProcessTest {

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopProcesses() {
        processes.forEach(Process::destroyForcibly);
    }

    @Test
    void twelveNodeProcessesClonedFromANodeWithMaxPeersThreeAllHoldEveryTransaction() throws Exception {
        Path nodes = dir.resolve("nodes");
        for (int i = 0; i < 12; i++) {
            run(nodes, "scripts/clone-node.sh");
            if (i == 0) {
                Files.writeString(nodes.resolve("node-1/.env"), "PORT=4001\nMAX_PEERS=3\n");
            }
        }
        for (int k = 2; k <= 12; k++) {
            assertEquals("PORT=" + (4000 + k) + "\nMAX_PEERS=3\n", Files.readString(nodes.resolve("node-" + k + "/.env")),
                    "node-" + k + " is a clone of node-1");
        }
        int[] ports = new int[13];
        for (int k = 1; k <= 12; k++) {
            ports[k] = PeerNodeTest.freePort();
        }
        String knownPeers = "[\"ws://localhost:" + ports[1] + "\",\"ws://localhost:" + ports[3] + "\"]";
        for (int k = 1; k <= 12; k++) {
            Path folder = nodes.resolve("node-" + k);
            Files.writeString(folder.resolve(".env"), "PORT=" + ports[k] + "\nMAX_PEERS=3\n");
            Files.writeString(folder.resolve("known-peers.json"), knownPeers);
            processes.add(new ProcessBuilder("scripts/run-node.sh", folder.toString()).redirectErrorStream(true)
                    .redirectOutput(folder.resolve("node.log").toFile()).start());
        }
        PeerNodeTest.awaitTrue(() -> allLogged(nodes, "listening on"), "all twelve nodes listen");
        Thread.sleep(2_000);   // the mesh forms: each node dials three

        for (int i = 0; i < 10; i++) {
            Process add = new ProcessBuilder("scripts/add-transaction.sh", nodes.resolve("node-7").toString(),
                    "{\"id\":\"seven-" + i + "\",\"amount\":" + i + "}").redirectErrorStream(true).start();
            assertTrue(add.waitFor(30, TimeUnit.SECONDS) && add.exitValue() == 0, new String(add.getInputStream().readAllBytes()));
        }
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline && !allHold(nodes, 10)) {
            Thread.sleep(100);
        }
        for (int k = 1; k <= 12; k++) {
            assertEquals(10, poolSize(nodes.resolve("node-" + k)), "node-" + k + "'s transactions.json");
        }
    }

    private static boolean allLogged(Path nodes, String text) {
        for (int k = 1; k <= 12; k++) {
            try {
                if (!Files.readString(nodes.resolve("node-" + k + "/node.log")).contains(text)) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }

    private static boolean allHold(Path nodes, int n) throws IOException {
        for (int k = 1; k <= 12; k++) {
            if (poolSize(nodes.resolve("node-" + k)) != n) {
                return false;
            }
        }
        return true;
    }

    private static int poolSize(Path folder) throws IOException {
        Path pool = folder.resolve("transactions.json");
        return Files.exists(pool) ? JsonParser.parseString(Files.readString(pool)).getAsJsonArray().size() : 0;
    }

    private static void run(Path nodes, String script) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(script).redirectErrorStream(true);
        builder.environment().put("WIRELAB_NODES", nodes.toString());
        Process process = builder.start();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0, new String(process.getInputStream().readAllBytes()));
    }
}
