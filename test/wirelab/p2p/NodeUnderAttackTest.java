package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static wirelab.p2p.PeerNodeTest.freePort;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.LogCapture;
import wirelab.websocket.IncomingConnection;
import wirelab.websocket.RawWebSocket;
import wirelab.websocket.WebSocketServer;

/**
 * A node that no stranger can poison or exhaust, tried from outside as a stranger would: each
 * story sends what a hostile peer sends, over real sockets, and checks that the node refuses it,
 * stays within its memory and its log, and goes on serving everyone else. Where memory, files
 * or the log are what is at stake, the node is a real process started by scripts/run-node.sh.
 */
@Timeout(180)
class NodeUnderAttackTest {

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();
    private final List<AutoCloseable> others = new ArrayList<>();
    private Process process;

    @AfterEach
    void stopEverything() throws Exception {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor();
        }
        for (AutoCloseable other : others) {
            other.close();
        }
        nodes.forEach(PeerNode::close);
    }

    // --- poison: one message that is not text --------------------------------------------------

    /**
     * {@code "\ud800"} is valid JSON and not Unicode text. It is refused with its reason; a
     * surrogate pair (one character) is stored and read back as it came; /status answers on
     * every node, and a node that joins later catches up from a pool that reads back whole.
     */
    @Test
    void aLoneSurrogateIsRefusedAndPoisonsNoNodeNorOneThatJoinsLater() throws Exception {
        PeerNode first = start(List.of());
        PeerNode second = start(List.of(first.address()));
        PeerNode third = start(List.of(first.address()));
        PeerNodeTest.awaitFullMesh(List.of(first, second, third));
        try (RawWebSocket stranger = RawWebSocket.open(first.port())) {
            stranger.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"\\ud800\"}}");
            stranger.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"smile\",\"memo\":\"\\ud83d\\ude00 one character\"}}");
            stranger.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"after-it\"}}");
        }
        for (PeerNode node : List.of(first, second, third)) {
            await(() -> node.transactionCount() == 2, 10, node.address() + " stores the two that are text");
        }
        assertTrue(first.refused().getOrDefault("invalid message", 0L) >= 1, "refused with a reason: " + first.refused());
        PeerNode late = start(List.of(second.address()));
        await(() -> late.transactionCount() == 2, 15, "a node that joins later catches up");
        for (PeerNode node : List.of(first, second, third, late)) {
            String status = httpGet(node.port(), "/status");
            assertTrue(status.startsWith("HTTP/1.1 200 ") && status.contains("after-it"), node.address() + ": " + status);
            JsonArray pool = JsonParser.parseString(Files.readString(folderOf(node).resolve("transactions.json"))).getAsJsonArray();
            assertEquals(List.of("smile", "after-it"), pool.asList().stream().map(t -> t.getAsJsonObject().get("id").getAsString()).toList());
            assertEquals("\ud83d\ude00 one character", node.transactions().get(0).get("memo").getAsString(), "read back as it came");
        }
    }

    // --- exhaustion: a pool of tiny transactions ------------------------------------------------

    /**
     * The heap pays a small fixed cost for each stored transaction, whatever its size: a node
     * starts on 4,000,000 transactions of 15 bytes, answers /status within 60 s, holds well
     * under its 512 MB heap, and past MAX_POOL_TRANSACTIONS refuses a new one with a counted
     * reason while the old ones are still read back.
     */
    @Test
    void aNodeStartsOnFourMillionTinyTransactionsAndRefusesPastItsCap() throws Exception {
        int port = freePort();
        Path folder = Files.createDirectories(dir.resolve("tiny"));
        Files.writeString(folder.resolve(".env"), "PORT=" + port + "\nMAX_POOL_TRANSACTIONS=4000000\n");
        NodeProcessFaultTest.writePool(folder.resolve("transactions.json"), 4_000_000, i -> "{\"id\":" + (1_000_001 + i) + "}");
        startProcess(folder, "tiny.log");
        long started = System.nanoTime();
        await(() -> httpGet(port, "/status").contains("\"transactionCount\":4000000"), 60, "/status answers with the whole pool");
        long seconds = (System.nanoTime() - started) / 1_000_000_000L;
        long rssMb = NodeProcessFaultTest.residentMb(process.pid());
        assertTrue(rssMb < 350, "the node holds " + rssMb + " MB resident for 4,000,000 transactions (up in " + seconds + " s)");
        try (RawWebSocket client = RawWebSocket.open(port)) {
            client.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"one-too-many\"}}");
        }
        await(() -> httpGet(port, "/status").contains("\"the pool is full (MAX_POOL_TRANSACTIONS)\":1"), 10,
                "the one past the cap is refused and counted");
        String status = httpGet(port, "/status");
        assertTrue(status.contains("\"id\":5000000") && !status.contains("one-too-many"), "the last stored one is read back: " + status);
    }

    // --- exhaustion: the log --------------------------------------------------------------------

    /**
     * 20,000 catch-up and tree messages that each earn a log line, from one client whose
     * Wirelab-Gossip header claims a 2,000-character address: node.log grows by well under a
     * mebibyte, since every such line goes through the source's quota and no line repeats more
     * than a short abbreviation of what the peer sent.
     */
    @Test
    void aFloodOfCatchUpAndTreeMessagesStaysWithinTheSourcesLogQuota() throws Exception {
        int port = freePort();
        Path folder = Files.createDirectories(dir.resolve("logged"));
        Files.writeString(folder.resolve(".env"), "PORT=" + port + "\n");
        Path log = startProcess(folder, "logged.log");
        await(() -> httpGet(port, "/status").contains("transactionCount"), 30, "the node is up");
        long before = Files.size(log);
        String claim = "ws://" + "a".repeat(1_990) + ":9000";
        try (RawWebSocket stranger = new RawWebSocket(port)) {
            assertTrue(stranger.handshake("Wirelab-Gossip: " + claim + "\r\n").startsWith("HTTP/1.1 101 "));
            stranger.sendText("{\"type\":\"HANDSHAKE\",\"data\":[]}");
            String[] noisy = {
                "{\"type\":\"SYNC_WANT\",\"data\":{\"ids\":[\"" + "f".repeat(32) + "\"]}}",
                "{\"type\":\"GRAFT\",\"data\":{\"ids\":[\"" + "0".repeat(32) + "\"]}}",
                "{\"type\":\"SYNC_IDS\",\"data\":{\"buckets\":[1],\"ids\":[]}}",
                "{\"type\":\"IHAVE\",\"data\":{\"ids\":[\"not a digest " + "x".repeat(500) + "\"]}}",
            };
            for (int i = 0; i < 20_000; i++) {
                stranger.sendText(noisy[i % noisy.length]);
            }
            await(() -> received(port) >= 20_000, 30, "the node read all 20,000");
        }
        Thread.sleep(500);
        long grown = Files.size(log) - before;
        assertTrue(grown < 1 << 20, "node.log grew by " + grown + " bytes for 20,000 messages from one source");
        assertTrue(Files.readString(log).contains("suppressed "), "one line says how many were suppressed");
    }

    // --- exhaustion: dials --------------------------------------------------------------------

    /**
     * 200 curriculum-style clients (no Wirelab-Gossip header), each naming a fresh address of a
     * server that answers: the node dials back at most MAX_DIAL_BACKS of them beyond its
     * MAX_PEERS, and a dial-back ends when the client's own connection does.
     */
    @Test
    void twoHundredCurriculumClientsLeaveAtMostMaxPeersPlusTwoOutgoingConnections() throws Exception {
        PeerNode node = start(List.of());
        List<RawWebSocket> clients = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            WebSocketServer helper = WebSocketServer.start(WebSocketServer.Options.onPort(0), new WebSocketServer.Listener() {
                @Override
                public void onText(IncomingConnection connection, String text) {
                }
            });
            others.add(helper);
            RawWebSocket client = RawWebSocket.open(node.port());
            clients.add(client);
            others.add(client);
            client.sendText("{\"type\":\"HANDSHAKE\",\"data\":[\"ws://localhost:" + helper.port() + "\"]}");
        }
        int most = 0;
        for (int sample = 0; sample < 40; sample++) {   // four seconds
            most = Math.max(most, node.connectedAddresses().size() + node.attemptingToConnectToAddress().size());
            Thread.sleep(100);
        }
        assertTrue(most <= NodeConfig.DEFAULT_MAX_PEERS + 2, "at most " + most + " outgoing connections, open or being opened");
        assertTrue(node.connectedAddresses().size() >= NodeConfig.DEFAULT_MAX_PEERS, "its slots are used: " + node.connectedAddresses());
        for (RawWebSocket client : clients) {
            client.close();
        }
        await(() -> node.connectedAddresses().size() <= NodeConfig.DEFAULT_MAX_PEERS, 10,
                "the dial-backs end with the connections they answered: " + node.connectedAddresses());
    }

    /**
     * One connection sends 200 HANDSHAKEs of 100 fresh addresses each: what a source may teach
     * is bounded, and so is how fast the node dials: one attempt at a time, paced.
     */
    @Test
    void aHandshakeReflectorMakesTheNodeDialAtMostFiftyTimesInFiveSeconds() throws Exception {
        PeerNode node = start(List.of());
        LogCapture log = new LogCapture("peer-node");
        try (log; RawWebSocket reflector = RawWebSocket.open(node.port())) {
            for (int round = 0; round < 200; round++) {
                List<String> fresh = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    fresh.add("\"ws://localhost:" + (30_000 + round * 100 + i) + "\"");
                }
                reflector.sendText("{\"type\":\"HANDSHAKE\",\"data\":[" + String.join(",", fresh) + "]}");
            }
            Thread.sleep(5_000);
        }
        long dials = log.lines().stream()
                .filter(line -> line.startsWith("connecting to ws://localhost:") && line.endsWith("(from the address book)")).count();
        assertTrue(dials <= 50, dials + " dials in 5 s");
        assertTrue(dials > 0, "it does dial what it learned");
    }

    // --- exhaustion: peers that stop reading ----------------------------------------------------

    /**
     * Nine clients from nine addresses each ask a node holding a 66 MB pool for all of it by
     * catch-up, and then stop reading. The node queues a few megabytes for each, not the pool;
     * it drops each at SEND_TIMEOUT_MS with a counted reason; /status answers and an honest
     * transaction is stored meanwhile.
     */
    @Test
    void catchUpReadersThatStopReadingAreDroppedAndHoldNoPoolInMemory() throws Exception {
        int port = freePort();
        Path folder = Files.createDirectories(dir.resolve("stalled"));
        Files.writeString(folder.resolve(".env"), "PORT=" + port + "\nSEND_TIMEOUT_MS=3000\n");
        String memo = "m".repeat(640);
        NodeProcessFaultTest.writePool(folder.resolve("transactions.json"), 100_000,
                i -> "{\"id\":\"pool-" + i + "\",\"memo\":\"" + memo + "\"}");
        startProcess(folder, "stalled.log");
        await(() -> httpGet(port, "/status").contains("\"transactionCount\":100000"), 60, "the node is up with its pool");
        List<String> allBuckets = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            allBuckets.add(String.valueOf(b));
        }
        for (int k = 2; k <= 10; k++) {
            RawWebSocket reader = new RawWebSocket("127.0.0." + k, port, 4096);
            others.add(reader);
            assertTrue(reader.handshake("").startsWith("HTTP/1.1 101 "));
            reader.sendText("{\"type\":\"SYNC\",\"data\":{\"count\":0,\"digest\":\"00\"}}");
            assertTrue(reader.readText().contains("SYNC_BUCKETS"));
            reader.sendText("{\"type\":\"SYNC_IDS\",\"data\":{\"buckets\":[" + String.join(",", allBuckets) + "],\"ids\":[]}}");
            // and now it reads nothing more
        }
        Thread.sleep(1_000);
        long rssMb = NodeProcessFaultTest.residentMb(process.pid());
        assertTrue(rssMb < 300, "the node holds " + rssMb + " MB resident with nine stalled catch-ups of a 66 MB pool");
        try (RawWebSocket honest = RawWebSocket.open(port)) {
            honest.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"honest-meanwhile\"}}");
        }
        await(() -> httpGet(port, "/status").contains("\"transactionCount\":100001"), 10, "an honest transaction is stored meanwhile");
        await(() -> httpGet(port, "/status").contains("\"dropped: a write to it blocked (SEND_TIMEOUT_MS)\":9"), 20,
                "each stalled reader is dropped at the deadline");
    }

    /**
     * 540 connections from three addresses each send half of a 1 MiB message and wait. The
     * bytes held for messages still arriving have a budget for the whole node (and a quarter of
     * it per address): past it, connections are closed with 1013 before the heap is at risk,
     * and a normal client is served.
     */
    @Test
    void halfSentMessagesFromThreeAddressesAreRefusedBeforeTheHeapIsAtRisk() throws Exception {
        int port = freePort();
        Path folder = Files.createDirectories(dir.resolve("half-sent"));
        Files.writeString(folder.resolve(".env"), "PORT=" + port + "\n");
        startProcess(folder, "half-sent.log");
        await(() -> httpGet(port, "/status").contains("transactionCount"), 30, "the node is up");
        byte[] half = new byte[512 * 1024];
        java.util.Arrays.fill(half, (byte) 'x');
        List<RawWebSocket> senders = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger refused = new AtomicInteger();
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> sending = new ArrayList<>();
            for (int i = 0; i < 540; i++) {
                String from = "127.0.0." + (2 + i % 3);
                sending.add(threads.submit(() -> {
                    try {
                        RawWebSocket sender = new RawWebSocket(from, port, -1);
                        senders.add(sender);
                        if (!sender.handshake("").startsWith("HTTP/1.1 101 ")) {
                            refused.incrementAndGet();
                            return null;
                        }
                        sender.sendFrame(0x81, true, half, 1 << 20);   // half of what the header promises
                    } catch (IOException e) {
                        refused.incrementAndGet();   // closed while we wrote: refused
                    }
                    return null;
                }));
            }
            for (Future<?> each : sending) {
                each.get();
            }
        }
        try {
            Thread.sleep(1_000);
            long rssMb = NodeProcessFaultTest.residentMb(process.pid());
            assertTrue(rssMb < 300, "the node holds " + rssMb + " MB resident with 540 half-sent mebibytes");
            assertTrue(refused.get() > 0 || closedWith1013(senders) > 0, "some were refused");
            try (RawWebSocket honest = RawWebSocket.open(port)) {
                honest.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"honest-meanwhile\"}}");
            }
            await(() -> httpGet(port, "/status").contains("\"transactionCount\":1"), 10, "a normal client is served meanwhile");
        } finally {
            for (RawWebSocket sender : senders) {
                sender.close();
            }
        }
    }

    // --- squatting: slots -----------------------------------------------------------------------

    /**
     * 32 idle strangers take every incoming slot of a node. A newcomer of ours still becomes its
     * neighbour, by evicting one of them, and gets the next transaction.
     */
    @Test
    void anEclipseAttemptCannotLockANewcomerOutOfAFullNode() throws Exception {
        PeerNode victim = start(List.of());
        int slots = 4 * NodeConfig.DEFAULT_MAX_PEERS;
        for (int i = 0; i < slots; i++) {
            RawWebSocket squatter = new RawWebSocket(victim.port());
            others.add(squatter);
            assertTrue(squatter.handshake("Wirelab-Gossip: ws://localhost:" + freePort() + "\r\n").startsWith("HTTP/1.1 101 "));
            squatter.sendText("{\"type\":\"HANDSHAKE\",\"data\":[]}");
        }
        await(() -> victim.incomingAddresses().size() == slots, 10, "the squatters hold every incoming slot");
        PeerNode newcomer = start(List.of(victim.address()));
        await(() -> victim.incomingAddresses().contains(newcomer.address()), 10,
                "the newcomer is a neighbour: " + victim.incomingAddresses().size() + " incoming");
        assertTrue(victim.incomingAddresses().size() <= slots, "still at most MAX_INCOMING_PEERS");
        await(() -> victim.neighbours().stream().anyMatch(n -> n.get("address").getAsString().equals(newcomer.address())
                && n.get("link").getAsString().equals("eager")), 10, "the newcomer joins the broadcast tree through it");
        try (RawWebSocket client = RawWebSocket.open(victim.port())) {
            client.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"reaches-the-newcomer\"}}");
        }
        await(() -> newcomer.transactionCount() == 1, 10, "the newcomer gets the next transaction");
        assertTrue(victim.refused().getOrDefault("evicted for a newcomer", 0L) >= 1, "an eviction is counted: " + victim.refused());
    }

    // --- helpers ----------------------------------------------------------------------------------

    private PeerNode start(List<String> knownPeers) throws IOException {
        int port = freePort();
        PeerNode node = PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("node-" + port)), port, knownPeers));
        nodes.add(node);
        return node;
    }

    private Path folderOf(PeerNode node) {
        return dir.resolve("node-" + node.port());
    }

    /** Starts a node process on the folder; returns its log file. */
    private Path startProcess(Path folder, String logName) throws IOException {
        Path log = dir.resolve(logName);
        process = new ProcessBuilder("scripts/run-node.sh", folder.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return log;
    }

    private static long received(int port) {
        String status = httpGet(port, "/status");
        int body = status.indexOf("\r\n\r\n");
        if (body < 0) {
            return 0;
        }
        JsonObject received = JsonParser.parseString(status.substring(body + 4)).getAsJsonObject().getAsJsonObject("messagesReceived");
        return received.entrySet().stream().mapToLong(e -> e.getValue().getAsLong()).sum();
    }

    private static int closedWith1013(List<RawWebSocket> senders) throws IOException {
        int count = 0;
        for (RawWebSocket sender : List.copyOf(senders).subList(0, Math.min(60, senders.size()))) {
            sender.socket.setSoTimeout(200);
            try {
                count += sender.awaitCloseCode() == 1013 ? 1 : 0;
            } catch (java.net.SocketTimeoutException e) {
                // still held: within the budget
            }
        }
        return count;
    }

    static String httpGet(int port, String path) {
        try (RawWebSocket raw = new RawWebSocket(port)) {
            raw.writeAscii("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
            return raw.readResponse();
        } catch (IOException e) {
            return "";
        }
    }

    static void await(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("within " + seconds + " s: " + what);
            }
            Thread.sleep(50);
        }
    }
}
