package wirelab.bench;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.p2p.NodeConfig;
import wirelab.p2p.PeerNode;

/** The network's figures: 50 nodes forming a full mesh, and transactions reaching all of them. */
final class MeshBench {

    private MeshBench() {
    }

    static final int NODES = 50;

    static void run() throws Exception {
        System.out.println("mesh");
        Path root = Files.createTempDirectory("bench-mesh");
        formMesh(root.resolve("warm-up")).forEach(PeerNode::close);
        double[] meshSeconds = new double[Bench.REPEATS];
        List<PeerNode> mesh = null;
        for (int i = 0; i < Bench.REPEATS; i++) {
            if (mesh != null) {
                mesh.forEach(PeerNode::close);
            }
            long lastStarted = System.nanoTime();
            mesh = formMesh(root.resolve("mesh-" + i));
            meshSeconds[i] = (System.nanoTime() - lastStarted) / 1e9;
        }
        // Each node dials one address per DIAL_INTERVAL_MS (100 ms: Dialer), so the last of 49 dials starts
        // 4.8 s after the first at best; the target is that, and a second for the rest.
        Bench.record(NODES + " nodes, each knowing two: last start -> full mesh", "s", meshSeconds,
                "<= 6 s (49 dials, 100 ms apart)", true, 6);
        HttpClient http = HttpClient.newHttpClient();   // shut down, not closed: close() would wait for its sockets
        try {
            List<WebSocket> entries = new ArrayList<>();
            for (PeerNode node : mesh) {
                entries.add(http.newWebSocketBuilder().buildAsync(URI.create(node.address()), new WebSocket.Listener() { })
                        .get(10, TimeUnit.SECONDS));
            }
            int stored = 0;
            double[] oneMs = new double[Bench.REPEATS];
            for (int i = 0; i <= Bench.REPEATS; i++) {   // the first is a warm-up
                long started = System.nanoTime();
                send(entries.get(0), "single-" + i);
                stored++;
                awaitAll(mesh, stored);
                if (i > 0) {
                    oneMs[i - 1] = (System.nanoTime() - started) / 1e6;
                }
            }
            Bench.record("one transaction to one node -> stored by all " + NODES, "ms", oneMs, "<= 250 ms", true, 250);
            double[] thousandSeconds = new double[Bench.REPEATS];
            for (int i = 0; i < Bench.REPEATS; i++) {
                long started = System.nanoTime();
                int round = i;
                try (ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
                    for (int n = 0; n < NODES; n++) {
                        WebSocket entry = entries.get(n);
                        int node = n;
                        senders.submit(() -> {
                            for (int t = 0; t < 1_000 / NODES; t++) {
                                send(entry, "bulk-" + round + "-" + node + "-" + t);
                            }
                            return null;
                        });
                    }
                }
                stored += 1_000;
                awaitAll(mesh, stored);
                thousandSeconds[i] = (System.nanoTime() - started) / 1e9;
            }
            Bench.record("1,000 transactions over " + NODES + " nodes -> all stored everywhere", "s", thousandSeconds);
            checkExactlyOnceOnDisk(mesh, root.resolve("mesh-" + (Bench.REPEATS - 1)), stored);
        } finally {
            http.shutdownNow();
            mesh.forEach(PeerNode::close);
        }
    }

    /**
     * Catch-up: a node that was down while 1,000 transactions went round, timed from its restart
     * to holding all of them; and the bytes two nodes already in sync at 10,000 transactions
     * send each other when they connect again.
     */
    static void catchUp() throws Exception {
        System.out.println("catch-up");
        Path root = Files.createTempDirectory("bench-catch-up");
        HttpClient http = HttpClient.newHttpClient();   // shut down, not closed: close() would wait for its sockets
        try {
            catchUp(root, http);
        } finally {
            http.shutdownNow();
        }
    }

    private static void catchUp(Path root, HttpClient http) throws Exception {
        double[] catchUpMs = new double[Bench.REPEATS];
        for (int round = 0; round <= Bench.REPEATS; round++) {   // the first is a warm-up
            Path folder = root.resolve("missed-" + round);
            List<Integer> ports = freePorts(3);
            PeerNode first = startNode(folder, ports.get(0), List.of());
            PeerNode second = startNode(folder, ports.get(1), List.of(first.address()));
            PeerNode third = startNode(folder, ports.get(2), List.of(first.address()));
            List<PeerNode> all = new ArrayList<>(List.of(first, second, third));
            try {
                await(() -> third.connectedAddresses().size() == 2 && first.connectedAddresses().size() == 2, 10, "three meshed");
                third.close();
                all.remove(third);
                sendMany(http, first, 1_000, "missed-" + round);
                await(() -> second.transactionCount() == 1_000, 60, "the live nodes storing 1,000");
                long started = System.nanoTime();
                PeerNode back = startNode(folder, ports.get(2), List.of(first.address()));
                all.add(back);
                await(() -> back.transactionCount() == 1_000, 30, "the returning node holding all 1,000");
                if (round > 0) {
                    catchUpMs[round - 1] = (System.nanoTime() - started) / 1e6;
                }
            } finally {
                all.forEach(PeerNode::close);
            }
        }
        Bench.record("a node that missed 1,000: restart -> holds them all", "ms", catchUpMs, "< 1 s", true, 1_000);

        Path folder = root.resolve("in-sync");
        List<Integer> ports = freePorts(2);
        PeerNode first = startNode(folder, ports.get(0), List.of());
        PeerNode firstSecond = startNode(folder, ports.get(1), List.of(first.address()));
        PeerNode second = firstSecond;
        try {
            await(() -> firstSecond.connectedAddresses().size() == 1 && first.connectedAddresses().size() == 1, 10, "two meshed");
            sendMany(http, first, 10_000, "held");
            await(() -> firstSecond.transactionCount() == 10_000, 120, "both holding 10,000");
            double[] bytes = new double[Bench.REPEATS];
            for (int i = 0; i < Bench.REPEATS; i++) {
                second.close();
                long before = first.catchUpBytesSent();
                second = startNode(folder, ports.get(1), List.of(first.address()));
                PeerNode again = second;
                await(() -> again.connectedAddresses().size() == 1 && first.connectedAddresses().size() == 1, 10, "met again");
                Thread.sleep(200);   // any answer to the SYNCs would have come by now
                bytes[i] = first.catchUpBytesSent() - before + again.catchUpBytesSent();
                Bench.check(again.transactionCount() == 10_000, "still 10,000 after meeting again");
            }
            Bench.record("two nodes in sync at 10,000 meet again: catch-up bytes", "bytes", bytes, "< 1 KB", true, 1_024);
        } finally {
            first.close();
            second.close();
        }
    }

    private static PeerNode startNode(Path root, int port, List<String> known) throws Exception {
        return PeerNode.start(NodeConfig.of(Files.createDirectories(root.resolve("node-" + port)), port, known));
    }

    /** n transactions to one node over one connection, as fast as it takes them. */
    private static void sendMany(HttpClient http, PeerNode node, int n, String prefix) throws Exception {
        WebSocket entry = http.newWebSocketBuilder().buildAsync(URI.create(node.address()), new WebSocket.Listener() { })
                .get(10, TimeUnit.SECONDS);
        for (int i = 0; i < n; i++) {
            send(entry, prefix + "-" + i);
        }
        entry.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
    }

    /**
     * Starts the nodes on free ports, node i knowing nodes i-1 and i-2 (so node 0 and 1 know
     * nodes that start after them, and must try again); returns once it is a full mesh.
     */
    private static List<PeerNode> formMesh(Path root) throws Exception {
        List<Integer> ports = freePorts(NODES);
        List<PeerNode> mesh = new ArrayList<>();
        for (int i = 0; i < NODES; i++) {
            List<String> known = List.of("ws://localhost:" + ports.get((i + NODES - 1) % NODES),
                    "ws://localhost:" + ports.get((i + NODES - 2) % NODES));
            mesh.add(PeerNode.start(NodeConfig.of(Files.createDirectories(root.resolve("node-" + i)), ports.get(i), known)
                    .withMaxPeers(NODES - 1)));   // the curriculum's full mesh
        }
        await(() -> mesh.stream().allMatch(node -> node.connectedAddresses().size() == NODES - 1), 60, "a full mesh");
        return mesh;
    }

    /**
     * Ports below the kernel's ephemeral range (32768 and up here): a port picked with port 0
     * can be taken, before its node binds it, by one of the thousands of outgoing connections.
     * They start at 28,000, above every port on a node's bad-ports list (the highest is
     * MongoDB's 27017): no node dials such a port from a HANDSHAKE, so a node on one would never
     * join the mesh.
     */
    static List<Integer> freePorts(int n) {
        List<Integer> ports = new ArrayList<>();
        for (int port = 28_000 + new java.util.Random().nextInt(3_000); ports.size() < n; port++) {
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                ports.add(probe.getLocalPort());
            } catch (java.io.IOException taken) {
                // in use: try the next one
            }
        }
        return ports;
    }

    private static void send(WebSocket entry, String id) throws Exception {
        JsonObject data = new JsonObject();
        data.addProperty("id", id);
        data.addProperty("amount", 1);
        JsonObject message = new JsonObject();
        message.addProperty("type", "TRANSACTION");
        message.add("data", data);
        entry.sendText(message.toString(), true).get(10, TimeUnit.SECONDS);
    }

    private static void awaitAll(List<PeerNode> mesh, int stored) throws InterruptedException {
        await(() -> mesh.stream().allMatch(node -> node.transactionCount() >= stored), 120,
                "every node storing " + stored + " transactions");
        Bench.check(mesh.stream().allMatch(node -> node.transactionCount() == stored), "no node stored more than " + stored);
    }

    private static void checkExactlyOnceOnDisk(List<PeerNode> mesh, Path folder, int stored) throws Exception {
        Thread.sleep(200);   // anything still travelling would arrive now
        for (int i = 0; i < mesh.size(); i++) {
            Set<String> ids = new HashSet<>();
            Path file = folder.resolve("node-" + i).resolve("transactions.json");
            for (JsonElement transaction : JsonParser.parseString(Files.readString(file)).getAsJsonArray()) {
                Bench.check(ids.add(transaction.getAsJsonObject().get("id").getAsString()), "a duplicate in " + file);
            }
            Bench.check(ids.size() == stored, file + " holds " + ids.size() + ", expected " + stored);
        }
        System.out.println("  every node holds each of the " + stored + " transactions exactly once, in memory and on disk");
    }

    static void await(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!condition.getAsBoolean()) {
            Bench.check(System.nanoTime() < deadline, what + " within " + seconds + " s");
            Thread.sleep(5);
        }
    }
}
