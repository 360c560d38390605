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
                seconds[i] = runOnce(m);
            }
            Bench.record(NODES + " node processes, " + String.format("%,d", m) + " transactions into one -> in every file", "s", seconds);
        }
    }

    private static double runOnce(int m) throws Exception {
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
            long started = System.nanoTime();
            for (int i = 0; i < m; i++) {
                entry.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"p-" + i + "\",\"amount\":" + i + "}}", true)
                        .get(10, TimeUnit.SECONDS);
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
            for (Process node : nodes) {
                node.destroy();
            }
            for (Process node : nodes) {
                node.waitFor(10, TimeUnit.SECONDS);
            }
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
