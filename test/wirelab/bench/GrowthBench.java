package wirelab.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import wirelab.p2p.NodeConfig;
import wirelab.p2p.PeerNode;

/**
 * The growth curve: what one transaction costs as the network grows, in one JVM. Each new node
 * is told of two earlier nodes picked at random and dials at most MAX_PEERS=8; beside it, at the
 * size it can reach here, the curriculum's full mesh (MAX_PEERS = N - 1). Per transaction:
 * TRANSACTION messages and all messages sent, over N; bytes sent; and the time from entry until
 * the last node holds it. Catch-up's timer is set out of reach, so gossip alone is measured.
 */
final class GrowthBench {

    private GrowthBench() {
    }

    private static final int BURST = 50;

    static void run() throws Exception {
        System.out.println("growth (one JVM; MAX_PEERS=8 unless full mesh)");
        HttpClient http = HttpClient.newHttpClient();   // shut down, not closed: close() would wait for its sockets
        try {
            for (int n : Integer.getInteger("bench.only", 0) > 0 ? new int[] {Integer.getInteger("bench.only")} : new int[] {50, 100, 300, 500}) {
                measure(http, n, false);
            }
            measure(http, 50, true);
        } finally {
            http.shutdownNow();
        }
    }

    private static void measure(HttpClient http, int n, boolean fullMesh) throws Exception {
        String shape = fullMesh ? "full mesh" : "MAX_PEERS=8";
        Path root = Files.createTempDirectory("bench-growth");
        List<PeerNode> nodes = new ArrayList<>();
        Random random = new Random(n);
        try {
            List<Integer> ports = MeshBench.freePorts(n);
            for (int i = 0; i < n; i++) {
                List<String> known = new ArrayList<>();
                for (int k = 0; k < Math.min(2, i); k++) {
                    known.add(nodes.get(random.nextInt(i)).address());
                }
                NodeConfig config = NodeConfig.of(Files.createDirectories(root.resolve("node-" + i)), ports.get(i), known)
                        .withMaxPeers(fullMesh ? n - 1 : 8).withSyncIntervalMs(3_600_000);
                nodes.add(PeerNode.start(config));
            }
            int minimum = fullMesh ? n - 1 : 2;
            long deadline = System.nanoTime() + 120_000_000_000L;
            while (!nodes.stream().allMatch(node -> node.connectedAddresses().size() >= minimum) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            List<PeerNode> short_ = nodes.stream().filter(node -> node.connectedAddresses().size() < minimum).toList();
            Bench.check(short_.isEmpty(), short_.size() + " of " + n + " nodes dial fewer than " + minimum + " within 120 s, e.g. "
                    + short_.stream().limit(3).map(node -> node.address() + " connected " + node.connectedAddresses()
                            + " attempting " + node.attemptingToConnectToAddress() + " incoming " + node.incomingAddresses().size()
                            + " received " + node.messagesReceived())
                            .toList());
            // Settled: no HANDSHAKE (a new connection) for 2 s, or 30 s at most, as a network between bursts.
            long settleDeadline = System.nanoTime() + 30_000_000_000L;
            long handshakes = -1;
            while (handshakes != sum(nodes, "HANDSHAKE") && System.nanoTime() < settleDeadline) {
                handshakes = sum(nodes, "HANDSHAKE");
                Thread.sleep(2_000);
            }
            int stored = 0;
            long firstSendsBefore = sum(nodes, "TRANSACTION");
            for (int i = 0; i < 10; i++) {   // the first transactions after the mesh forms: do they flood?
                sendTo(http, nodes.get(random.nextInt(n)), "first-" + n + "-" + shape + "-" + i);
            }
            stored += 10;
            awaitAll(nodes, stored);
            double firstSends = (sum(nodes, "TRANSACTION") - firstSendsBefore) / 10.0;
            for (int i = 0; i < 10; i++) {   // warm-up: any cycle left in the tree is pruned
                sendTo(http, nodes.get(random.nextInt(n)), "warm-" + n + "-" + shape + "-" + i);
            }
            stored += 10;
            awaitAll(nodes, stored);

            double[] lastNodeMs = new double[Bench.REPEATS];
            for (int i = 0; i < Bench.REPEATS; i++) {
                long started = System.nanoTime();
                sendTo(http, nodes.get(random.nextInt(n)), "single-" + n + "-" + shape + "-" + i);
                stored++;
                awaitAll(nodes, stored);
                lastNodeMs[i] = (System.nanoTime() - started) / 1e6;
            }

            java.util.Map<String, Long> typesBefore = byType(nodes);
            long transactionsBefore = sum(nodes, "TRANSACTION");
            long messagesBefore = nodes.stream().mapToLong(PeerNode::messagesSent).sum();
            long bytesBefore = nodes.stream().mapToLong(PeerNode::bytesSent).sum();
            for (int i = 0; i < BURST; i++) {
                sendTo(http, nodes.get(random.nextInt(n)), "burst-" + n + "-" + shape + "-" + i);
            }
            stored += BURST;
            awaitAll(nodes, stored);
            Thread.sleep(500);   // the last IHAVEs of the burst go out on the next heartbeats
            double transactionSends = (sum(nodes, "TRANSACTION") - transactionsBefore) / (double) BURST;
            double messages = (nodes.stream().mapToLong(PeerNode::messagesSent).sum() - messagesBefore) / (double) BURST;
            double bytes = (nodes.stream().mapToLong(PeerNode::bytesSent).sum() - bytesBefore) / (double) BURST;
            long connections = nodes.stream().mapToLong(node -> node.connectedAddresses().size()).sum();
            java.util.Map<String, Long> types = byType(nodes);
            types.replaceAll((type, count) -> count - typesBefore.getOrDefault(type, 0L));
            System.out.println("  N=" + n + " " + shape + ", the burst's messages by type: " + types);
            String label = String.format(Locale.ROOT, "N=%d %s", n, shape);
            Bench.record(label + ": the first 10 transactions, TRANSACTION sends each / N", "x N", new double[] {firstSends / n},
                    fullMesh ? "" : n == 300 ? "<= 2" : "", true, fullMesh || n != 300 ? Double.NaN : 2);
            Bench.record(label + ": TRANSACTION sends per transaction / N", "x N", new double[] {transactionSends / n},
                    fullMesh ? "" : n >= 300 ? "<= 1.5" : "", true, fullMesh || n < 300 ? Double.NaN : 1.5);
            Bench.record(label + ": all messages per transaction / N", "x N", new double[] {messages / n},
                    fullMesh ? "" : n == 500 ? "<= 8" : "", true, fullMesh || n != 500 ? Double.NaN : 8);
            Bench.record(label + ": bytes sent per transaction", "bytes", new double[] {bytes});
            Bench.record(label + ": connections (outgoing, all nodes)", "", new double[] {connections});
            Bench.record(label + ": one transaction -> the last node", "ms", lastNodeMs);
            System.out.printf(Locale.ROOT, "  (curriculum flooding over a full mesh would send N-1 = %d TRANSACTIONs per node)%n", n - 1);
        } finally {
            nodes.forEach(PeerNode::abort);
        }
    }

    private static java.util.Map<String, Long> byType(List<PeerNode> nodes) {
        java.util.Map<String, Long> total = new java.util.TreeMap<>();
        for (String type : List.of("TRANSACTION", "IHAVE", "GRAFT", "PRUNE", "HANDSHAKE", "SYNC")) {
            total.put(type, sum(nodes, type));
        }
        return total;
    }

    private static long sum(List<PeerNode> nodes, String type) {
        return nodes.stream().mapToLong(node -> node.messagesSent(type)).sum();
    }

    private static void sendTo(HttpClient http, PeerNode node, String id) throws Exception {
        WebSocket entry = http.newWebSocketBuilder().buildAsync(URI.create(node.address()), new WebSocket.Listener() { })
                .get(10, TimeUnit.SECONDS);
        entry.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"" + id + "\",\"amount\":1}}", true).get(10, TimeUnit.SECONDS);
        entry.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
    }

    private static void awaitAll(List<PeerNode> nodes, int stored) throws InterruptedException {
        MeshBench.await(() -> nodes.stream().allMatch(node -> node.transactionCount() >= stored), 120,
                "every node storing " + stored + " transactions");
        Bench.check(nodes.stream().allMatch(node -> node.transactionCount() == stored), "no node stored more than " + stored);
    }
}
