package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static wirelab.p2p.NodeUnderAttackTest.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;

import wirelab.LinkSimulator;
import wirelab.websocket.RawWebSocket;

/**
 * Gossip over links that are not loopback: every connection between the nodes crosses the link
 * simulator, which delays it, jitters it, resets it or cuts the network in two. Each story holds
 * the broadcast to what a user of a real network expects: every node gets every transaction,
 * once, at about one copy a node, and soon after the network is whole again.
 */
@Timeout(120)
class SlowLinksTest {

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();
    private LinkSimulator links;

    @AfterEach
    void stopEverything() {
        nodes.forEach(PeerNode::abort);
        if (links != null) {
            links.close();
        }
    }

    @Test
    void overHundredMillisecondLinksEveryNodeGetsEachTransactionOnceAtAboutOneCopyEach() throws Exception {
        network(10, new LinkSimulator.Conditions(100, 20, 0));
        long sendsBefore = transactionSends();
        long started = System.nanoTime();
        sendAt(10, 30, "slow");
        await(() -> nodes.stream().allMatch(node -> node.transactionCount() == 30), 15, "every node holds all 30");
        double seconds = (System.nanoTime() - started) / 1e9;
        Thread.sleep(1_000);   // anything still on its way arrives: a copy would show
        for (PeerNode node : nodes) {
            assertEquals(30, new HashSet<>(names(node)).size(), node.address() + " holds each once");
        }
        double perNode = (transactionSends() - sendsBefore) / 30.0 / nodes.size();
        assertTrue(perNode <= 1.5, perNode + " TRANSACTION sends per transaction per node (all 30 in " + seconds + " s)");
    }

    @Test
    void aTreeWhoseEveryLinkIsResetRepairsItself() throws Exception {
        network(8, new LinkSimulator.Conditions(50, 10, 0));
        sendAt(20, 10, "before");
        await(() -> nodes.stream().allMatch(node -> node.transactionCount() == 10), 15, "all 10 everywhere before the reset");
        links.resetAll();
        sendAt(20, 10, "after");
        await(() -> nodes.stream().allMatch(node -> node.transactionCount() == 20), 30, "all 20 everywhere after the reset: "
                + nodes.stream().map(PeerNode::transactionCount).toList());
    }

    @Test
    void aThirdCutOffWhileTransactionsGoOnHoldsThemAllSoonAfterTheHeal() throws Exception {
        network(9, new LinkSimulator.Conditions(50, 0, 0));
        Set<Integer> side = new HashSet<>(List.of(nodes.get(6).port(), nodes.get(7).port(), nodes.get(8).port()));
        links.partition(side, LinkSimulator.Cut.HOLD);
        sendAt(10, 20, "during");
        links.heal();
        await(() -> nodes.stream().allMatch(node -> node.transactionCount() == 20), 10,
                "every node holds all 20 within 10 s of the heal: " + nodes.stream().map(PeerNode::transactionCount).toList());
    }

    @Test
    void aCutThatResetsItsConnectionsHealsByReconnectingAndCatchingUp() throws Exception {
        network(9, new LinkSimulator.Conditions(50, 0, 0));
        Set<Integer> side = new HashSet<>(List.of(nodes.get(6).port(), nodes.get(7).port(), nodes.get(8).port()));
        links.partition(side, LinkSimulator.Cut.RESET);
        sendAt(10, 20, "across");
        Thread.sleep(1_000);
        assertTrue(nodes.subList(6, 9).stream().allMatch(node -> node.transactionCount() < 20), "the cut side misses some");
        links.heal();
        await(() -> nodes.stream().allMatch(node -> node.transactionCount() == 20), 30,
                "every node holds all 20 after the heal: " + nodes.stream().map(PeerNode::transactionCount).toList());
    }

    /** The simulator itself: each way delayed by about the delay, bytes in order, a partition held until the heal. */
    @Test
    void theSimulatorDelaysEachWayKeepsTheOrderAndHoldsWhatCrossesACut() throws Exception {
        try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> {
                try (Socket peer = echo.accept()) {
                    peer.getInputStream().transferTo(peer.getOutputStream());
                } catch (IOException e) {
                    // the test ended
                }
            });
            int client = PeerNodeTest.freePort();
            links = LinkSimulator.start(List.of(client, echo.getLocalPort()), 0, new LinkSimulator.Conditions(100, 0, 0));
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), links.stationPort(client)), 2_000);
                socket.setSoTimeout(5_000);
                OutputStream out = socket.getOutputStream();
                InputStream in = socket.getInputStream();
                out.write(("CONNECT localhost:" + echo.getLocalPort() + " HTTP/1.1\r\nHost: localhost\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                assertTrue(readLine(in).startsWith("HTTP/1.1 200 "));
                readLine(in);   // the blank line
                long started = System.nanoTime();
                for (int i = 0; i < 50; i++) {
                    out.write(("line " + i + "\n").getBytes(StandardCharsets.US_ASCII));
                }
                for (int i = 0; i < 50; i++) {
                    assertEquals("line " + i, readLine(in), "in order");
                }
                long roundTripMs = (System.nanoTime() - started) / 1_000_000;
                assertTrue(roundTripMs >= 200 && roundTripMs < 1_000, "100 ms each way: " + roundTripMs + " ms there and back");
                links.partition(Set.of(client), LinkSimulator.Cut.HOLD);
                out.write("held\n".getBytes(StandardCharsets.US_ASCII));
                socket.setSoTimeout(500);
                assertTrue(timesOut(in), "nothing crosses the cut");
                links.heal();
                socket.setSoTimeout(5_000);
                assertEquals("held", readLine(in), "what was held flows at the heal");
            }
        }
    }

    // --- helpers ----------------------------------------------------------------------------------

    /** n nodes, each knowing the first and the third (as the curriculum's clones do), every connection through the simulator. */
    private void network(int n, LinkSimulator.Conditions conditions) throws Exception {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ports.add(PeerNodeTest.freePort());
        }
        links = LinkSimulator.start(ports, 0, conditions);
        for (int i = 0; i < n; i++) {
            List<String> known = new ArrayList<>();
            for (int k : new int[] {0, 2}) {
                if (k != i) {
                    known.add("ws://localhost:" + ports.get(k));
                }
            }
            NodeConfig config = NodeConfig.of(Files.createDirectories(dir.resolve("node-" + i)), ports.get(i), known)
                    .withLinkProxy("localhost:" + links.stationPort(ports.get(i)));
            nodes.add(PeerNode.start(config));
        }
        await(() -> nodes.stream().allMatch(node -> node.neighbours().size() >= 3), 30, "every node has three neighbours");
        Thread.sleep(1_500);   // the first catch-ups and the tree's first grafts
    }

    /** {@code count} transactions, {@code perSecond} a second, each into a node picked at random. */
    private void sendAt(int perSecond, int count, String prefix) throws Exception {
        Random random = new Random(count);
        List<RawWebSocket> clients = new ArrayList<>();
        try {
            for (PeerNode node : nodes) {
                clients.add(RawWebSocket.open(node.port()));
            }
            for (int i = 0; i < count; i++) {
                clients.get(random.nextInt(clients.size()))
                        .sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"" + prefix + "-" + i + "\"}}");
                Thread.sleep(1_000 / perSecond);
            }
        } finally {
            for (RawWebSocket client : clients) {
                client.close();
            }
        }
    }

    private long transactionSends() {
        return nodes.stream().mapToLong(node -> node.messagesSent("TRANSACTION")).sum();
    }

    private static List<String> names(PeerNode node) {
        return node.transactions().stream().map(t -> t.get("id")).map(JsonElement::getAsString).toList();
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new IOException("the stream ended");
            }
            if (b != '\r') {
                line.append((char) b);
            }
        }
        return line.toString();
    }

    private static boolean timesOut(InputStream in) throws IOException {
        try {
            return in.read() < -1;
        } catch (java.net.SocketTimeoutException e) {
            return true;
        }
    }
}
