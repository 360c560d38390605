package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.websocket.JdkClient;
import wirelab.websocket.RawWebSocket;

@Timeout(60)
class PeerNodeTest {

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();

    @AfterEach
    void stopNodes() {
        nodes.forEach(PeerNode::close);
    }

    // --- the mesh -------------------------------------------------------------------------

    @Test
    void threeNodesFormAFullMesh() throws Exception {
        List<PeerNode> mesh = startMesh(3);
        awaitFullMesh(mesh);
    }

    @Test
    void aNodeNeverDialsItselfOrTheSameServerTwice() throws Exception {
        int port = freePort();
        PeerNode node = startNode(port, List.of("ws://localhost:" + port, "ws://127.0.0.1:" + port));
        PeerNode other = startNode(freePort(), List.of(node.address(), node.address(), node.address() + "/"));
        awaitTrue(() -> node.connectedAddresses().equals(List.of(other.address())), "node should connect back to other");
        assertEquals(List.of(node.address()), other.connectedAddresses());
        assertEquals(1, node.connectedAddresses().size());
    }

    // The curriculum's tests 3 to 6, with a helper playing a foreign node.

    @Test
    void curriculum3_aHandshakeMakesTheNodeConnectToTheSender() throws Exception {
        PeerNode node = startNode(freePort(), List.of());
        try (ForeignNode helper = new ForeignNode().handshakeWith(node.address())) {
            helper.nodeConnectedBack.get(10, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void curriculum4and5_theNodesHandshakeNamesItselfAndTheHelper() throws Exception {
        PeerNode node = startNode(freePort(), List.of());
        try (ForeignNode helper = new ForeignNode().handshakeWith(node.address())) {
            JsonObject handshake = helper.awaitHandshake();
            assertEquals("HANDSHAKE", handshake.get("type").getAsString());
            assertTrue(ForeignNode.addresses(handshake).contains(node.address()));
            assertTrue(ForeignNode.addresses(handshake).contains(helper.address));
        }
    }

    @Test
    void curriculum6_aDepartedHelperIsGoneFromTheNextHandshake() throws Exception {
        PeerNode node = startNode(freePort(), List.of());
        String first;
        try (ForeignNode helper = new ForeignNode().handshakeWith(node.address())) {
            first = helper.address;
            assertTrue(ForeignNode.addresses(helper.awaitHandshake()).contains(first));
        }
        // no waiting here: the curriculum's test starts the second helper at once
        try (ForeignNode helper = new ForeignNode().handshakeWith(node.address())) {
            List<String> data = ForeignNode.addresses(helper.awaitHandshake());
            assertFalse(data.contains(first), "the departed helper " + first + " is still in " + data);
            assertTrue(data.contains(helper.address));
        }
        assertFalse(node.connectedAddresses().contains(first));
    }

    @Test
    void curriculum10_everyNodesHandshakeNamesAllThree() throws Exception {
        List<PeerNode> mesh = startMesh(3);
        awaitFullMesh(mesh);
        for (PeerNode node : mesh) {
            try (ForeignNode helper = new ForeignNode().handshakeWith(node.address())) {
                List<String> data = ForeignNode.addresses(helper.awaitHandshake());
                for (PeerNode each : mesh) {
                    assertTrue(data.contains(each.address()), node.address() + " sent " + data);
                }
            }
        }
    }

    @Test
    void aPeerThatVanishesWithoutACloseFrameIsRemoved() throws Exception {
        List<PeerNode> mesh = startMesh(3);
        awaitFullMesh(mesh);
        PeerNode victim = mesh.get(2);
        victim.abort();
        nodes.remove(victim);
        awaitTrue(() -> !mesh.get(0).connectedAddresses().contains(victim.address())
                && !mesh.get(1).connectedAddresses().contains(victim.address()), "the vanished peer should be removed");
    }

    @Test
    void aRestartedNodeRejoinsTheFullMesh() throws Exception {
        List<PeerNode> mesh = startMesh(3);
        awaitFullMesh(mesh);
        PeerNode leaving = mesh.get(2);
        leaving.close();
        nodes.remove(leaving);
        awaitTrue(() -> mesh.get(0).connectedAddresses().size() == 1 && mesh.get(1).connectedAddresses().size() == 1,
                "the others should notice it left");
        PeerNode back = startNode(leaving.port(), List.of(mesh.get(0).address()));
        awaitFullMesh(List.of(mesh.get(0), mesh.get(1), back));
    }

    // --- transactions ---------------------------------------------------------------------

    @Test
    void tenTransactionsSentToFiveNodesAreStoredExactlyOnceEverywhere() throws Exception {
        List<PeerNode> mesh = startMesh(5);
        awaitFullMesh(mesh);
        for (int i = 0; i < 10; i++) {
            try (ForeignNode sender = new ForeignNode().handshakeWith(mesh.get(i % 5).address())) {
                sender.send("{\"type\":\"TRANSACTION\",\"data\":{\"from\":\"alice\",\"to\":\"bob\",\"amount\":" + i + "}}");
            }
        }
        for (PeerNode node : mesh) {
            awaitTrue(() -> node.transactions().size() >= 10, node.address() + " should store all ten");
        }
        Thread.sleep(300);   // any duplicate still travelling would arrive by now
        for (PeerNode node : mesh) {
            JsonArray onDisk = JsonParser.parseString(Files.readString(folderOf(node).resolve("transactions.json"))).getAsJsonArray();
            assertEquals(10, onDisk.size(), node.address() + " stored " + onDisk);
            Set<Integer> amounts = new HashSet<>();
            Set<String> ids = new HashSet<>();
            for (JsonElement t : onDisk) {
                amounts.add(t.getAsJsonObject().get("amount").getAsInt());
                ids.add(TransactionId.of(t.getAsJsonObject()));
            }
            assertEquals(10, amounts.size());
            assertEquals(10, ids.size());
        }
    }

    @Test
    void aRestartedNodeRemembersWhichTransactionsItStored() throws Exception {
        int port = freePort();
        PeerNode node = startNode(port, List.of());
        String transaction = "{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"tx-1\",\"amount\":5}}";
        try (ForeignNode sender = new ForeignNode().handshakeWith(node.address())) {
            sender.send(transaction);
        }
        awaitTrue(() -> node.transactions().size() == 1, "stored once");
        node.close();
        nodes.remove(node);
        PeerNode restarted = startNode(port, List.of());
        assertEquals(1, restarted.transactions().size());
        try (ForeignNode sender = new ForeignNode().handshakeWith(restarted.address())) {
            sender.send(transaction);
            sender.send("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"tx-2\",\"amount\":6}}");
        }
        awaitTrue(() -> restarted.transactions().size() == 2, "tx-2 stored");
        assertEquals(List.of("tx-1", "tx-2"), restarted.transactions().stream().map(t -> t.get("id").getAsString()).toList());
    }

    // --- bad input --------------------------------------------------------------------------

    @Test
    void badMessagesAreIgnoredAndTheNodeKeepsWorking() throws Exception {
        PeerNode node = startNode(freePort(), List.of());
        try (ForeignNode sender = new ForeignNode().handshakeWith(node.address())) {
            sender.awaitHandshake();
            sender.send("not json at all");
            sender.send("[1, 2, 3]");
            sender.send("{\"type\":\"GOSSIP\",\"data\":[]}");
            sender.send("{\"data\":[]}");
            sender.send("{\"type\":\"HANDSHAKE\",\"data\":\"ws://localhost:1\"}");
            sender.send("{\"type\":\"HANDSHAKE\",\"data\":[42, null, {\"a\":1}, \"http://localhost:80\", \"ws://\", \"ws://localhost\", \"ws://localhost:99999\", \"ws://localhost:80/path?q=1\"]}");
            sender.send("{\"type\":\"TRANSACTION\",\"data\":\"a string\"}");
            sender.send("{\"type\":\"TRANSACTION\",\"data\":{\"id\":{\"nested\":true}}}");
            sender.send("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"" + "x".repeat(300) + "\"}}");
            sender.send("{\"type\":\"TRANSACTION\",\"data\":{\"amount\":1}}");   // a good one, last
        }
        awaitTrue(() -> node.transactions().size() == 1, "the good transaction is stored");
        assertEquals(1, node.transactions().get(0).get("amount").getAsInt());
        assertEquals(List.of(), node.attemptingToConnectToAddress());
        try (ForeignNode helper = new ForeignNode().handshakeWith(node.address())) {
            assertTrue(ForeignNode.addresses(helper.awaitHandshake()).contains(helper.address));
        }
    }

    @Test
    void aHandshakeListingThousandsOfAddressesIsCappedAndForeignHostsAreNotDialed() throws Exception {
        PeerNode node = startNode(freePort(), List.of());
        StringBuilder data = new StringBuilder("[\"ws://example.com:80\",\"ws://10.0.0.1:4001\"");
        for (int port = 20_000; port < 25_000; port++) {
            data.append(",\"ws://localhost:").append(port).append('"');
        }
        try (ForeignNode sender = new ForeignNode().handshakeWith(node.address())) {
            sender.send("{\"type\":\"HANDSHAKE\",\"data\":" + data + "]}");
            Thread.sleep(200);
            int attemptsAndPeers = node.attemptingToConnectToAddress().size() + node.connectedAddresses().size();
            assertTrue(attemptsAndPeers <= 100, "dialed " + attemptsAndPeers + " addresses from one HANDSHAKE");
            assertFalse(node.attemptingToConnectToAddress().contains("ws://example.com:80"));
            assertFalse(node.attemptingToConnectToAddress().contains("ws://10.0.0.1:4001"));
        }
        awaitTrue(() -> node.attemptingToConnectToAddress().isEmpty(), "the refused attempts should all end");
    }

    @Test
    void aMessageOverOneMiBIsRefusedWith1009AndTheNodeGoesOn() throws Exception {
        PeerNode node = startNode(freePort(), List.of());
        JdkClient client = JdkClient.connect(node.address());
        client.send("{\"type\":\"TRANSACTION\",\"data\":{\"memo\":\"" + "m".repeat(1 << 20) + "\"}}");
        assertEquals(1009, client.awaitClose().code());
        try (ForeignNode sender = new ForeignNode().handshakeWith(node.address())) {
            sender.send("{\"type\":\"TRANSACTION\",\"data\":{\"amount\":3}}");
        }
        awaitTrue(() -> node.transactions().size() == 1, "a normal transaction is still stored");
    }

    @Test
    void maxPeersBoundsHowManyServersANodeDials() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("bounded"));
        PeerNode node = PeerNode.start(NodeConfig.of(folder, freePort(), List.of()).withMaxPeers(2));
        nodes.add(node);
        List<ForeignNode> helpers = new ArrayList<>();
        try {
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < 5; i++) {
                helpers.add(new ForeignNode());
                data.append(i == 0 ? "" : ",").append('"').append(helpers.get(i).address).append('"');
            }
            try (ForeignNode sender = new ForeignNode().handshakeWith(node.address())) {
                sender.send("{\"type\":\"HANDSHAKE\",\"data\":[" + data + "]}");
                awaitTrue(() -> node.connectedAddresses().size() == 2, "two peers");
                Thread.sleep(300);
                assertEquals(2, node.connectedAddresses().size(), "MAX_PEERS is 2, connected to " + node.connectedAddresses());
            }
        } finally {
            helpers.forEach(ForeignNode::close);
        }
    }

    @Test
    void aPeerThatAcceptsTcpButNeverAnswersDoesNotStallTheOthers() throws Exception {
        PeerNode node = startNode(freePort(), List.of());
        try (ServerSocket hung = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
             ForeignNode helper = new ForeignNode()) {
            String hungAddress = "ws://localhost:" + hung.getLocalPort();
            // accept the TCP connection and then say nothing, ever
            Thread.ofVirtual().start(() -> {
                List<java.net.Socket> held = new ArrayList<>();
                try {
                    while (true) {
                        held.add(hung.accept());
                    }
                } catch (IOException e) {
                    // closed at the end of the test
                }
            });
            try (ForeignNode sender = new ForeignNode().handshakeWith(node.address())) {
                long started = System.nanoTime();
                sender.send("{\"type\":\"HANDSHAKE\",\"data\":[\"" + hungAddress + "\",\"" + helper.address + "\"]}");
                helper.nodeConnectedBack.get(2, java.util.concurrent.TimeUnit.SECONDS);
                assertTrue(node.attemptingToConnectToAddress().contains(hungAddress), "the hung peer is still being tried");
                sender.send("{\"type\":\"TRANSACTION\",\"data\":{\"amount\":4}}");
                awaitTrue(() -> node.transactions().size() == 1, "the transaction is stored meanwhile");
                assertTrue((System.nanoTime() - started) / 1_000_000 < 2_000, "the hung peer held the others up");
            }
            awaitTrue(() -> !node.attemptingToConnectToAddress().contains(hungAddress), "the hung attempt gives up");
            assertFalse(node.connectedAddresses().contains(hungAddress));
        }
    }

    @Test
    void readsItsFolderAsTheCurriculumLaysItOut() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("node-7"));
        Files.writeString(folder.resolve(".env"), "# a comment\nPORT=4007\n");
        Files.writeString(folder.resolve("known-peers.json"), "[\"ws://localhost:4001\",\"ws://localhost:4003\"]");
        NodeConfig config = NodeConfig.fromFolder(folder);
        assertEquals(4007, config.port());
        assertEquals(List.of("ws://localhost:4001", "ws://localhost:4003"), config.knownPeers());
        assertEquals(List.of("loopback"), config.allowedPeerHosts());
        Files.writeString(folder.resolve(".env"), "PORT=forty\n");
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> NodeConfig.fromFolder(folder));
        assertEquals(".env: PORT must be a whole number from 0 to 65535, got 'forty'", e.getMessage());
    }

    @Test
    void normalizesAddressesAndRefusesWhatIsNotWsHostPort() {
        assertEquals("ws://localhost:4001", WsAddress.normalize("ws://LOCALHOST:4001/"));
        assertEquals("ws://[::1]:4001", WsAddress.normalize("ws://[::1]:4001"));
        for (String bad : List.of("wss://localhost:4001", "ws://localhost", "localhost:4001", "ws://a@localhost:1",
                "ws://localhost:4001/x", "ws://localhost:0", "not a uri at all")) {
            assertEquals(null, WsAddress.normalize(bad), bad);
        }
    }

    @Test
    void oneHostWrittenTwoWaysIsOneAddress() {
        assertEquals("ws://127.0.0.2:9000", WsAddress.normalize("ws://[::ffff:7f00:2]:9000"), "IPv4-mapped IPv6");
        assertEquals("ws://127.0.0.2:9000", WsAddress.normalize("ws://127.0.0.2:9000"));
        assertEquals("ws://[fd00::1]:9000", WsAddress.normalize("ws://[FD00:0:0:0::0001]:9000"), "RFC 5952's spelling");
        assertEquals("ws://[2001:db8::1:0:0:1]:9000", WsAddress.normalize("ws://[2001:db8:0:0:1:0:0:1]:9000"),
                "the first of two equal runs of zeros is the one cut");
        assertEquals("ws://[::1]:4001", WsAddress.normalize("ws://[0:0:0:0:0:0:0:1]:4001"));
        assertEquals("ws://node.example:4001", WsAddress.normalize("ws://Node.Example.:4001"), "a trailing dot");
        assertEquals(null, WsAddress.normalize("ws://" + "a".repeat(400) + ":4001"), "longer than any host name");
    }

    // --- the HTTP side of the node's port ----------------------------------------------------

    @Test
    void statusAnswersWithTheNodesOwnStateAndNamesOnlyAnAllowedOriginForCors() throws Exception {
        List<PeerNode> mesh = startMesh(2);
        awaitFullMesh(mesh);
        String response = httpGet(mesh.get(0).port(), "/status");
        assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
        assertFalse(response.contains("Access-Control-Allow-Origin"), "no CORS header for a script: " + response);
        String otherNodesPage = "http://localhost:" + mesh.get(1).port();   // the live view served by the other node
        try (RawWebSocket raw = new RawWebSocket(mesh.get(0).port())) {
            raw.writeAscii("GET /status HTTP/1.1\r\nHost: localhost\r\nOrigin: " + otherNodesPage + "\r\n\r\n");
            String read = raw.readResponse();
            assertTrue(read.contains("\r\nAccess-Control-Allow-Origin: " + otherNodesPage + "\r\n"), read);
        }
        JsonObject status = JsonParser.parseString(response.substring(response.indexOf("\r\n\r\n") + 4)).getAsJsonObject();
        assertEquals(mesh.get(0).address(), status.get("address").getAsString());
        assertEquals(List.of(mesh.get(1).address()),
                status.getAsJsonArray("connectedAddresses").asList().stream().map(JsonElement::getAsString).toList());
        assertEquals(0, status.get("transactionCount").getAsInt());
    }

    @Test
    void thePageIsServedAndOtherRequestsGetShortPlainAnswers() throws Exception {
        PeerNode node = startNode(freePort(), List.of());
        String page = httpGet(node.port(), "/");
        assertTrue(page.startsWith("HTTP/1.1 200 OK\r\n") && page.contains("<title>wirelab mesh</title>"), page);
        String missing = httpGet(node.port(), "/nowhere");
        assertTrue(missing.startsWith("HTTP/1.1 404 Not Found\r\n") && missing.contains("nothing at /nowhere"), missing);
        try (RawWebSocket raw = new RawWebSocket(node.port())) {
            raw.writeAscii("DELETE /status HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertTrue(raw.readResponse().startsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
        }
        try (RawWebSocket raw = new RawWebSocket(node.port())) {
            raw.writeAscii("GET / HTTP/1.1\r\nHost: localhost\r\nCookie: " + "c".repeat(9_000) + "\r\n\r\n");
            assertTrue(raw.readResponse().startsWith("HTTP/1.1 431 "));
        }
        try (RawWebSocket raw = new RawWebSocket(node.port())) {   // as the JDK's HttpClient asks: an upgrade to HTTP/2, ignored
            raw.writeAscii("GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                    + "HTTP2-Settings: AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA\r\n\r\n");
            assertTrue(raw.readResponse().startsWith("HTTP/1.1 200 OK\r\n"));
        }
        // and the WebSocket upgrade on the same port still works
        try (ForeignNode helper = new ForeignNode().handshakeWith(node.address())) {
            assertTrue(ForeignNode.addresses(helper.awaitHandshake()).contains(helper.address));
        }
    }

    private static String httpGet(int port, String path) throws IOException {
        try (RawWebSocket raw = new RawWebSocket(port)) {
            raw.writeAscii("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
            return raw.readResponse();
        }
    }

    // --- helpers ----------------------------------------------------------------------------

    /** n nodes: the first knows nobody, every other one knows only the first. */
    private List<PeerNode> startMesh(int n) throws Exception {
        List<PeerNode> mesh = new ArrayList<>();
        mesh.add(startNode(freePort(), List.of()));
        for (int i = 1; i < n; i++) {
            mesh.add(startNode(freePort(), List.of(mesh.get(0).address())));
        }
        return mesh;
    }

    private PeerNode startNode(int port, List<String> knownPeers) throws IOException {
        Path folder = dir.resolve("node-" + port);
        Files.createDirectories(folder);
        PeerNode node = PeerNode.start(NodeConfig.of(folder, port, knownPeers));
        nodes.add(node);
        return node;
    }

    private Path folderOf(PeerNode node) {
        return dir.resolve("node-" + node.port());
    }

    static void awaitFullMesh(List<PeerNode> mesh) throws InterruptedException {
        for (PeerNode node : mesh) {
            awaitTrue(() -> {
                Set<String> expected = new HashSet<>();
                mesh.forEach(other -> expected.add(other.address()));
                expected.remove(node.address());
                return new HashSet<>(node.connectedAddresses()).equals(expected);
            }, node.address() + " should be connected to every other node, has " + node.connectedAddresses());
        }
    }

    static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static final AtomicInteger nextPort = new AtomicInteger(20_000 + new Random().nextInt(8_000));

    /**
     * A free loopback port: nodes need theirs before they start, since peers dial it. Picked
     * below the kernel's ephemeral range (32768 and up here), and never the same twice in a
     * run: a port picked with port 0 is ephemeral, and one of the many outgoing connections a
     * test makes can take it before its node binds it.
     */
    static int freePort() throws IOException {
        for (int tries = 0; tries < 12_000; tries++) {
            int port = nextPort.getAndIncrement();
            if (port >= 32_000) {
                nextPort.set(20_000);
                continue;
            }
            try (ServerSocket probe = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return probe.getLocalPort();
            } catch (IOException taken) {
                // in use: the next one
            }
        }
        throw new IOException("no free loopback port between 20000 and 32000");
    }
}
