package wirelab.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import wirelab.p2p.Wallet;

/**
 * Gossip as users start it: ten node processes, each by scripts/run-node.sh (the JVM flags and
 * start-up cache of make network), each knowing the first and the third as the curriculum's
 * nodes do. M transactions go into the first node over one connection; the clock stops when
 * every node's transactions.json holds all M. A fresh mesh for every run, as a user's is.
 */
final class MeshProcessBench {

    private MeshProcessBench() {
    }

    static final int NODES = 10;

    static void run() throws Exception {
        System.out.println("mesh of processes");
        for (int m : new int[] {200, 1_000}) {
            double[] seconds = new double[Bench.REPEATS];
            for (int i = 0; i < Bench.REPEATS; i++) {
                seconds[i] = runOnce(m, null);
            }
            Bench.record(NODES + " node processes, " + String.format("%,d", m) + " transactions into one -> in every file", "s", seconds);
        }
        // The same with every transaction signed: each node verifies each one's Ed25519 signature
        // once, before it stores it; the pairs run in turn, so that the ratio sees the same machine.
        Wallet wallet = Wallet.openOrCreate(Files.createTempDirectory("bench-wallet").resolve("wallet.json"));
        double[] ratio = new double[Bench.REPEATS];
        double[] signedSeconds = new double[Bench.REPEATS];
        for (int i = 0; i < Bench.REPEATS; i++) {
            double unsigned = runOnce(1_000, null);
            signedSeconds[i] = runOnce(1_000, wallet);
            ratio[i] = signedSeconds[i] / unsigned;
        }
        Bench.record(NODES + " node processes, 1,000 signed transactions into one -> in every file", "s", signedSeconds);
        Bench.record("  signed / unsigned, the same run in turn", "x", ratio);
    }

    /**
     * A node's memory as make network N=3 starts three: resident (VmRSS) and proportional (Pss:
     * shared pages split between the processes that map them) memory of each, ten seconds after
     * start and ten seconds after 200 transactions went into the first; the median node. Then
     * the same for three curriculum-style Node nodes (ws), when one is given: like the other Node
     * programs it is not part of this project; write it in a scratch folder beside an
     * {@code npm install ws} (the curriculum's index.js, reading PORT from FOLDER/.env and
     * FOLDER/known-peers.json, writing FOLDER/transactions.json) and name it in
     * {@code BENCH_NODE_NODE}; it is run as {@code node FILE FOLDER}.
     */
    static void memory() throws Exception {
        System.out.println("a node's memory, three processes");
        double[] ours = threeNodes(folder -> List.of("scripts/run-node.sh", folder.toString()), "ours");
        String curriculum = System.getenv("BENCH_NODE_NODE");
        if (curriculum == null || !Files.exists(Path.of(curriculum)) || !CommandBench.onPath("node")) {
            System.out.println("  (no Node comparison: set BENCH_NODE_NODE to a curriculum-style node, with node on the PATH)");
            return;
        }
        double[] theirs = threeNodes(folder -> List.of("node", curriculum, folder.toString()), "curriculum Node nodes");
        Bench.record("  memory idle: ours / Node's (resident)", "x", new double[] {ours[0] / theirs[0]}, "<= 1.0", true, 1.0);
        Bench.record("  memory after 200 transactions: ours / Node's (resident)", "x", new double[] {ours[2] / theirs[2]},
                "<= 1.0", true, 1.0);
    }

    /** [idle RSS, idle PSS, after RSS, after PSS] of the median node, in MB; each row recorded as it is measured. */
    private static double[] threeNodes(java.util.function.Function<Path, List<String>> command, String who) throws Exception {
        Path root = Files.createTempDirectory("bench-node-memory");
        List<Integer> ports = MeshBench.freePorts(3);
        List<Process> nodes = new ArrayList<>();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        try {
            for (int k = 0; k < 3; k++) {
                Path folder = Files.createDirectories(root.resolve("node-" + (k + 1)));
                Files.writeString(folder.resolve(".env"), "PORT=" + ports.get(k) + "\n");
                Files.writeString(folder.resolve("known-peers.json"),
                        "[\"ws://localhost:" + ports.get(0) + "\",\"ws://localhost:" + ports.get(2) + "\"]");
                nodes.add(new ProcessBuilder(command.apply(folder)).redirectErrorStream(true)
                        .redirectOutput(folder.resolve("node.log").toFile()).start());
            }
            Thread.sleep(10_000);   // started, meshed, and settled
            double[] idle = medianMemory(nodes);
            WebSocket entry = http.newWebSocketBuilder().buildAsync(URI.create("ws://localhost:" + ports.get(0)),
                    new WebSocket.Listener() { }).get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 200; i++) {
                entry.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"m-" + i + "\",\"from\":\"alice\",\"to\":\"bob\","
                        + "\"amount\":" + i + "}}", true).get(10, TimeUnit.SECONDS);
            }
            entry.sendClose(1000, "done").get(10, TimeUnit.SECONDS);
            Thread.sleep(10_000);   // gossiped, written, and settled
            double[] after = medianMemory(nodes);
            Bench.record("3 nodes (" + who + "), each 10 s after start: resident memory", "MB", new double[] {idle[0]});
            Bench.record("  the same, proportional (shared pages split)", "MB", new double[] {idle[1]});
            Bench.record("  10 s after 200 transactions into the first: resident memory", "MB", new double[] {after[0]});
            Bench.record("  the same, proportional", "MB", new double[] {after[1]});
            return new double[] {idle[0], idle[1], after[0], after[1]};
        } finally {
            http.shutdownNow();
            stop(nodes);
        }
    }

    /** [VmRSS, Pss] of the median of the processes, in MB, from /proc/PID/smaps_rollup (Linux). */
    private static double[] medianMemory(List<Process> processes) {
        List<double[]> each = new ArrayList<>();
        for (Process process : processes) {
            each.add(new double[] {ExchangeBench.procKb(process.pid(), "smaps_rollup", "Rss") / 1024.0,
                    ExchangeBench.procKb(process.pid(), "smaps_rollup", "Pss") / 1024.0});
        }
        each.sort(java.util.Comparator.comparingDouble(m -> m[0]));
        return each.get(each.size() / 2);
    }

    /** Seconds until all {@code m} transactions are in every node's file; each signed with {@code wallet} unless it is null. */
    private static double runOnce(int m, Wallet wallet) throws Exception {
        Path root = Files.createTempDirectory("bench-mesh-processes");
        List<Integer> ports = MeshBench.freePorts(NODES);
        List<Process> nodes = new ArrayList<>();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        try {
            for (int k = 0; k < NODES; k++) {
                Path folder = Files.createDirectories(root.resolve("node-" + (k + 1)));
                Files.writeString(folder.resolve(".env"), "PORT=" + ports.get(k) + "\nMAX_PEERS=" + (NODES - 1) + "\n");   // a full mesh
                Files.writeString(folder.resolve("known-peers.json"),
                        "[\"ws://localhost:" + ports.get(0) + "\",\"ws://localhost:" + ports.get(2) + "\"]");
                nodes.add(new ProcessBuilder("scripts/run-node.sh", folder.toString()).redirectErrorStream(true)
                        .redirectOutput(folder.resolve("node.log").toFile()).start());
            }
            for (int port : ports) {
                MeshBench.await(() -> connectedCount(http, port) == NODES - 1, 60, "a full mesh of " + NODES + " processes");
            }
            WebSocket entry = http.newWebSocketBuilder().buildAsync(URI.create("ws://localhost:" + ports.get(0)),
                    new WebSocket.Listener() { }).get(10, TimeUnit.SECONDS);
            List<String> messages = new ArrayList<>();   // made before the clock starts: signing is the wallet's work, not the network's
            for (int i = 0; i < m; i++) {
                com.google.gson.JsonObject transaction = com.google.gson.JsonParser.parseString(
                        "{\"id\":\"p-" + i + "\",\"amount\":" + i + "}").getAsJsonObject();
                messages.add("{\"type\":\"TRANSACTION\",\"data\":" + (wallet == null ? transaction : wallet.sign(transaction)) + "}");
            }
            long started = System.nanoTime();
            for (String message : messages) {
                entry.sendText(message, true).get(10, TimeUnit.SECONDS);
            }
            for (int k = 1; k <= NODES; k++) {
                Path file = root.resolve("node-" + k).resolve("transactions.json");
                MeshBench.await(() -> linesHolding(file) >= m, 120, file + " holding " + m);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            for (int k = 1; k <= NODES; k++) {
                Bench.check(linesHolding(root.resolve("node-" + k).resolve("transactions.json")) == m, "node " + k + " stored exactly " + m);
            }
            entry.abort();
            return seconds;
        } finally {
            http.shutdownNow();
            stop(nodes);
        }
    }

    /** Stops every node process it started, and waits for each to be gone. */
    private static void stop(List<Process> nodes) throws InterruptedException {
        for (Process node : nodes) {
            node.destroy();
        }
        for (Process node : nodes) {
            node.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Transactions in a pool file: one a line, each line a JSON object. */
    private static long linesHolding(Path file) {
        try (var lines = Files.lines(file)) {
            return lines.filter(line -> line.startsWith("{")).count();
        } catch (IOException e) {
            return 0;
        }
    }

    private static int connectedCount(HttpClient http, int port) {
        try {
            String status = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/status"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body();
            String connected = status.replaceAll("(?s).*\"connectedAddresses\":\\[([^]]*)].*", "$1");
            return connected.isBlank() ? 0 : connected.split(",").length;
        } catch (IOException | InterruptedException e) {
            return 0;
        }
    }
}
