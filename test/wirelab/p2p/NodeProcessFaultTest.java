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
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
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

    /**
     * Fourteen bytes of frame header may promise a mebibyte. 3,000 connections each promising
     * one and sending nothing more must not make the node hold 3 GB: its memory follows the
     * bytes that arrived. Meanwhile a normal client is served and /status answers.
     */
    @Test
    void threeThousandConnectionsEachPromisingAMebibyteLeaveANodeProcessUnder512MB() throws Exception {
        int port = PeerNodeTest.freePort();
        Path folder = Files.createDirectories(dir.resolve("flooded"));
        Files.writeString(folder.resolve(".env"), "PORT=" + port + "\nMAX_CONNECTIONS=4000\n"
                + "MAX_CONNECTIONS_PER_SOURCE=4000\n");   // all from loopback: the memory, not the cap per source, is tested
        Path log = dir.resolve("flooded.log");
        process = new ProcessBuilder("scripts/run-node.sh", folder.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PeerNodeTest.awaitTrue(() -> httpStatus("ws://localhost:" + port).contains("transactionCount"), "the node is up");

        List<RawWebSocket> flood = new ArrayList<>();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<RawWebSocket>> opening = new ArrayList<>();
            for (int i = 0; i < 3_000; i++) {
                opening.add(threads.submit(() -> {
                    RawWebSocket raw = RawWebSocket.open(port);
                    raw.sendFrame(0x81, true, new byte[0], 1 << 20);   // a header declaring 1 MiB, then nothing
                    return raw;
                }));
            }
            for (var each : opening) {
                flood.add(each.get());
            }
        }
        try {
            Thread.sleep(1_000);   // let the node take in all 3,000 headers
            long rssMb = residentMb(process.pid());
            assertTrue(rssMb < 512, "the node holds " + rssMb + " MB resident with 3,000 promised mebibytes");
            assertTrue(httpStatus("ws://localhost:" + port).contains("\"transactionCount\":0"), "/status answers meanwhile");
            JdkClient normal = JdkClient.connect("ws://localhost:" + port);
            normal.send("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"during-the-flood\"}}");
            PeerNodeTest.awaitTrue(() -> httpStatus("ws://localhost:" + port).contains("\"transactionCount\":1"),
                    "a normal client's transaction is stored meanwhile");
        } finally {
            for (RawWebSocket raw : flood) {
                raw.close();
            }
        }
    }

    /**
     * A node process that may open only 256 files (ulimit -n) lowers MAX_CONNECTIONS to fit, so
     * that a flood of idle sockets cannot take the descriptor the pool's next append needs: a
     * transaction sent on an open connection during the flood is still stored. With the default
     * of 1,000 the sockets took every descriptor and the append failed.
     */
    @Test
    void aFloodOfSocketsNeverTakesTheFileThePoolAppendsTo() throws Exception {
        int port = PeerNodeTest.freePort();
        Path folder = Files.createDirectories(dir.resolve("few-files"));
        Files.writeString(folder.resolve(".env"), "PORT=" + port + "\nMAX_CONNECTIONS_PER_SOURCE=1000\n");   // one source floods
        Path log = dir.resolve("few-files.log");
        process = new ProcessBuilder("bash", "-c", "ulimit -n 256 && exec scripts/run-node.sh \"$0\"", folder.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PeerNodeTest.awaitTrue(() -> httpStatus("ws://localhost:" + port).contains("transactionCount"), "the node is up");
        assertTrue(Files.readString(log).contains("MAX_CONNECTIONS=1000 would let sockets take every file"), Files.readString(log));
        JdkClient client = JdkClient.connect("ws://localhost:" + port);
        List<java.net.Socket> flood = new ArrayList<>();
        try {
            for (int i = 0; i < 400; i++) {   // sockets that never send a byte
                java.net.Socket idle = new java.net.Socket();
                try {
                    idle.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1_000);
                    flood.add(idle);
                } catch (IOException e) {
                    idle.close();   // the backlog is full: the node is busy refusing
                }
            }
            Thread.sleep(500);
            client.send("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"during-the-socket-flood\"}}");
            Path pool = folder.resolve("transactions.json");
            try {
                PeerNodeTest.awaitTrue(() -> {
                    try {
                        return Files.exists(pool) && Files.readString(pool).contains("during-the-socket-flood");
                    } catch (IOException e) {
                        return false;
                    }
                }, "the transaction is appended while the sockets are held");
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; the node's log:\n" + Files.readString(log), e);
            }
        } finally {
            for (java.net.Socket idle : flood) {
                idle.close();
            }
        }
    }

    /** A pool file laid out as a node writes it, one transaction a line; {@code transaction} makes the i-th, from 0. */
    static void writePool(Path file, int count, IntFunction<String> transaction) throws IOException {
        try (var out = Files.newBufferedWriter(file)) {
            out.write("[\n");
            for (int i = 0; i < count; i++) {
                out.write((i == 0 ? "" : ",\n") + transaction.apply(i));
            }
            out.write("\n]\n");
        }
    }

    /** VmRSS of a process, from /proc (Linux). */
    static long residentMb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/" + pid + "/status");
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

    /**
     * The ids the node will start with: the file as the kill left it, read the way the node reads
     * it on start (a copy goes through TransactionPool.load, which repairs an append cut short).
     * Every line but a cut-short last one must be a whole transaction.
     */
    private static List<String> idsInFile(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        List<String> lines = Files.readAllLines(file);
        for (int i = 1; i < lines.size() - 1; i++) {
            String line = lines.get(i).endsWith(",") ? lines.get(i).substring(0, lines.get(i).length() - 1) : lines.get(i);
            assertTrue(line.equals("]") || JsonParser.parseString(line).isJsonObject(), "line " + i + " of " + file + ": " + line);
        }
        Path copy = Files.copy(file, file.resolveSibling("after-kill-" + System.nanoTime() + ".json"));
        List<String> ids = new ArrayList<>();
        for (JsonObject transaction : TransactionPool.load(copy).transactions()) {
            ids.add(TransactionId.of(transaction));
        }
        return ids;
    }

    /**
     * The pool's transactions stay in the file: the heap holds ids and where each line is. A
     * node process that starts on a 100 MB pool reads it as a stream and stays small; it held
     * 574 MB when every transaction's text lived in the heap.
     */
    @Test
    void aNodeStartedOnAHundredMegabytePoolReadsItAsAStreamAndStaysSmall() throws Exception {
        int port = PeerNodeTest.freePort();
        Path folder = Files.createDirectories(dir.resolve("big-pool"));
        Files.writeString(folder.resolve(".env"), "PORT=" + port + "\n");
        String memo = "m".repeat(5_000);
        writePool(folder.resolve("transactions.json"), 20_000, i -> "{\"id\":\"big-" + i + "\",\"memo\":\"" + memo + "\"}");
        process = new ProcessBuilder("scripts/run-node.sh", folder.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("big-pool.log").toFile()).start();
        PeerNodeTest.awaitTrue(() -> httpStatus("ws://localhost:" + port).contains("\"transactionCount\":20000"),
                "the node is up with its 20,000 transactions");
        long rssMb = residentMb(process.pid());
        assertTrue(rssMb < 200, "the node holds " + rssMb + " MB resident for a 100 MB pool");
        assertTrue(httpStatus("ws://localhost:" + port).contains("big-19999"), "the last transactions are read back from the file");
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
