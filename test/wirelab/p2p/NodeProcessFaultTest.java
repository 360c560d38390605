package wirelab.p2p;

import wirelab.websocket.JdkClient;
import wirelab.websocket.RawWebSocket;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

/**
 * A real node process, started through scripts/run-node.sh, is killed with SIGKILL at seeded
 * random moments while transactions pour in, then started again. Its transactions.json must
 * always parse, hold no duplicate, and hold every transaction it logged as stored; and it must
 * rejoin the full mesh each time.
 */
@Timeout(120)
class NodeProcessFaultTest {

    private static final Pattern STORED = Pattern.compile("stored transaction (\\S+) from");

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();
    private Process process;

    @AfterEach
    void stopEverything() {
        if (process != null) {
            process.destroyForcibly();
        }
        nodes.forEach(PeerNode::close);
    }

    @Test
    void aNodeKilledMidStreamKeepsEveryStoredTransactionAndRejoins() throws Exception {
        PeerNode a = PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("a")), PeerNodeTest.freePort(), List.of()));
        nodes.add(a);
        PeerNode b = PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("b")), PeerNodeTest.freePort(),
                List.of(a.address())));
        nodes.add(b);
        PeerNodeTest.awaitFullMesh(nodes);

        int port = PeerNodeTest.freePort();
        String address = "ws://localhost:" + port;
        Path folder = Files.createDirectories(dir.resolve("victim"));
        Files.writeString(folder.resolve(".env"), "PORT=" + port + "\n");
        Files.writeString(folder.resolve("known-peers.json"), "[\"" + a.address() + "\"]");

        Random random = new Random(20261123);
        AtomicInteger amount = new AtomicInteger();
        Set<String> everLogged = new HashSet<>();
        for (int cycle = 0; cycle < 4; cycle++) {
            Path log = dir.resolve("victim-" + cycle + ".log");
            process = new ProcessBuilder("scripts/run-node.sh", folder.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            awaitRejoined(address, a, b, log);

            AtomicBoolean sending = new AtomicBoolean(true);
            Thread sender = Thread.ofVirtual().start(() -> sendUntilStopped(List.of(a.address(), address), sending, amount));
            Thread.sleep(300 + random.nextInt(1_200));
            process.destroyForcibly();   // SIGKILL: no shutdown hook, no close frames
            assertTrue(process.waitFor(10, TimeUnit.SECONDS));
            sending.set(false);
            sender.join();

            Set<String> logged = storedIds(log);
            List<String> onDisk = idsInFile(folder.resolve("transactions.json"));
            assertEquals(onDisk.size(), new HashSet<>(onDisk).size(), "cycle " + cycle + ": duplicates in " + onDisk);
            everLogged.addAll(logged);
            assertTrue(onDisk.containsAll(everLogged), "cycle " + cycle + ": logged as stored but not on disk: "
                    + everLogged.stream().filter(id -> !onDisk.contains(id)).toList());
            assertTrue(!logged.isEmpty(), "cycle " + cycle + ": the node stored nothing before the kill; see " + log);
        }
        process = new ProcessBuilder("scripts/run-node.sh", folder.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("victim-last.log").toFile()).start();
        awaitRejoined(address, a, b, dir.resolve("victim-last.log"));
    }

    /** Both in-process nodes are connected to the process, and it to both of them. */
    private static void awaitRejoined(String address, PeerNode a, PeerNode b, Path log) throws Exception {
        try {
            PeerNodeTest.awaitTrue(() -> a.connectedAddresses().contains(address) && b.connectedAddresses().contains(address),
                    "the restarted node should be back in the mesh");
            PeerNodeTest.awaitTrue(() -> {
                String status = httpStatus(address);
                return status.contains(a.address()) && status.contains(b.address());
            }, "the restarted node should be connected to both others");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; its log:\n" + Files.readString(log), e);
        }
    }

    /** Sends numbered transactions, alternating between the given nodes, until told to stop. */
    private static void sendUntilStopped(List<String> targets, AtomicBoolean sending, AtomicInteger amount) {
        List<JdkClient> clients = new ArrayList<>();
        try {
            for (String target : targets) {
                clients.add(JdkClient.connect(target));
            }
            for (int i = 0; sending.get(); i++) {
                clients.get(i % clients.size()).send("{\"type\":\"TRANSACTION\",\"data\":{\"amount\":" + amount.incrementAndGet() + "}}");
                Thread.sleep(3);
            }
        } catch (Exception e) {
            // the victim's connection dies with it; that is the point
        }
    }

    private static Set<String> storedIds(Path log) throws IOException {
        Set<String> ids = new HashSet<>();
        Matcher matcher = STORED.matcher(Files.readString(log));
        while (matcher.find()) {
            ids.add(matcher.group(1));
        }
        return ids;
    }

    private static List<String> idsInFile(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        List<String> ids = new ArrayList<>();
        for (JsonElement transaction : JsonParser.parseString(Files.readString(file)).getAsJsonArray()) {
            ids.add(transaction.getAsJsonObject().get("id").getAsString());
        }
        return ids;
    }

    private static String httpStatus(String address) {
        try (RawWebSocket raw = new RawWebSocket(Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)))) {
            raw.writeAscii("GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n");
            return raw.readResponse();
        } catch (IOException e) {
            return "";
        }
    }
}
