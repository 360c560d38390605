package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static wirelab.p2p.PeerNodeTest.awaitTrue;
import static wirelab.p2p.PeerNodeTest.freePort;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wirelab.websocket.IncomingConnection;
import wirelab.websocket.RawWebSocket;

/** A node on a user's machine: web pages, silent peers, oversized messages and bad settings cannot hurt it. */
@Timeout(60)
class NodeSafetyTest {

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();

    @AfterEach
    void stopNodes() {
        nodes.forEach(PeerNode::close);
    }

    @Test
    void theNodesClientSpeaksWsOnlyAndRefusesTlsWithAClearReason() throws Exception {
        try (ServerSocket tlsServer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            Thread.ofVirtual().start(() -> {   // takes the TCP connection; TLS would start after it
                try (Socket accepted = tlsServer.accept()) {
                    accepted.getInputStream().read();
                } catch (IOException e) {
                    // the client gave up, as it should
                }
            });
            java.net.http.HttpClient client = NoTls.newClient(threads, null);
            var failure = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> client.newWebSocketBuilder().buildAsync(java.net.URI.create("wss://127.0.0.1:" + tlsServer.getLocalPort()),
                            new java.net.http.WebSocket.Listener() { }).get(10, java.util.concurrent.TimeUnit.SECONDS));
            StringBuilder causes = new StringBuilder();
            for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
                causes.append(cause).append("; ");
            }
            assertTrue(causes.toString().contains("a node dials ws:// only, never wss://"), causes.toString());
            client.shutdownNow();
        }
    }

    @Test
    void aWebPageFromAnotherSiteCannotWriteToTheNetwork() throws Exception {
        PeerNode node = startNode(NodeConfig.of(folder("a"), freePort(), List.of()));
        for (String origin : List.of("https://evil.example", "null", "http://10.0.0.7:8080")) {
            try (RawWebSocket page = new RawWebSocket(node.port())) {
                String response = page.handshake("Origin: " + origin + "\r\n");
                assertTrue(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), origin + ": " + response);
            }
        }
        // the live view's own page, and a script (no Origin), may
        for (String headers : List.of("Origin: http://localhost:" + node.port() + "\r\n", "Origin: http://127.0.0.1:9\r\n", "")) {
            try (RawWebSocket allowed = new RawWebSocket(node.port())) {
                assertTrue(allowed.handshake(headers).startsWith("HTTP/1.1 101 "), headers);
                allowed.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"" + headers.length() + "\"}}");
            }
        }
        awaitTrue(() -> node.transactionCount() == 3, "the three allowed senders' transactions are stored");
        Thread.sleep(200);
        assertEquals(3, node.transactionCount(), "nothing from the refused pages");
    }

    @Test
    void allowedOriginsAddsOriginsBeyondLoopback() throws Exception {
        Path folder = folder("origins");
        Files.writeString(folder.resolve(".env"), "PORT=" + freePort() + "\nALLOWED_ORIGINS=http://dashboard.lan:8080\n");
        PeerNode node = startNode(NodeConfig.fromFolder(folder));
        try (RawWebSocket page = new RawWebSocket(node.port())) {
            assertTrue(page.handshake("Origin: http://DASHBOARD.lan:8080\r\n").startsWith("HTTP/1.1 101 "));
        }
        try (RawWebSocket page = new RawWebSocket(node.port())) {
            assertTrue(page.handshake("Origin: http://dashboard.lan:9090\r\n").startsWith("HTTP/1.1 403 "));
        }
    }

    @Test
    void aPeerThatGoesSilentWithoutClosingLeavesConnectedAddressesAndLaterHandshakes() throws Exception {
        PeerNode node = startNode(NodeConfig.of(folder("b"), freePort(), List.of()).withPingIntervalMs(200));
        try (ServerSocket silentServer = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            String silent = "ws://localhost:" + silentServer.getLocalPort();
            // completes the opening handshake, then never sends or answers anything, and never closes
            Thread.ofVirtual().start(() -> {
                try {
                    Socket socket = silentServer.accept();
                    String head = new String(socket.getInputStream().readNBytes(1), java.nio.charset.StandardCharsets.ISO_8859_1);
                    byte[] rest = new byte[4096];
                    int n = socket.getInputStream().read(rest);
                    head += new String(rest, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1);
                    String key = head.replaceAll("(?s).*Sec-WebSocket-Key: ([^\r]+)\r.*", "$1");
                    socket.getOutputStream().write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: " + accept(key) + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    Thread.sleep(30_000);
                } catch (Exception e) {
                    // closed at the end of the test
                }
            });
            try (RawWebSocket sender = RawWebSocket.open(node.port())) {
                sender.sendText("{\"type\":\"HANDSHAKE\",\"data\":[\"" + silent + "\"]}");
                awaitTrue(() -> node.connectedAddresses().contains(silent), "the node dials the silent peer");
                long started = System.nanoTime();
                awaitTrue(() -> !node.connectedAddresses().contains(silent), "the silent peer is dropped");
                long ms = (System.nanoTime() - started) / 1_000_000;
                assertTrue(ms < 2_000, "dropped after " + ms + " ms");
            }
            try (ForeignNode helper = new ForeignNode().handshakeWith(node.address())) {
                assertFalse(ForeignNode.addresses(helper.awaitHandshake()).contains(silent), "no longer advertised");
            }
        }
    }

    @Test
    void aMessageOverOneMiBInBytesFromAPeerWeDialedIsRefusedThoughItHasFewerCharacters() throws Exception {
        PeerNode node = startNode(NodeConfig.of(folder("c"), freePort(), List.of()));
        try (ForeignNode helper = new ForeignNode().handshakeWith(node.address())) {
            helper.awaitHandshake();
            IncomingConnection fromNode = helper.server.connections().iterator().next();
            fromNode.send("{\"type\":\"TRANSACTION\",\"data\":{\"memo\":\"" + "é".repeat(600_000) + "\"}}");   // 1.2 MB, 0.6 M chars
            awaitTrue(() -> !node.connectedAddresses().contains(helper.address), "the node drops the peer that sent it");
            assertEquals(0, node.transactionCount());
        }
    }

    @Test
    void badAddressSettingsStopTheNodeAtStartNamingTheSetting() throws Exception {
        Path folder = folder("settings");
        Files.writeString(folder.resolve(".env"), "PORT=4001\nHOST=0.0.0.0\n");
        IOException e = assertThrows(IOException.class, () -> NodeConfig.fromFolder(folder));
        assertTrue(e.getMessage().contains("set MY_ADDRESS") && e.getMessage().contains("MY_ADDRESS=ws://"), e.getMessage());
        Files.writeString(folder.resolve(".env"), "PORT=4001\nMY_ADDRESS=http://host\n");
        assertTrue(assertThrows(IOException.class, () -> NodeConfig.fromFolder(folder)).getMessage().startsWith(".env: MY_ADDRESS"));
        for (String bad : List.of("198.18.0.0/33", "fd00::/129", "198.18.0.0/x", "bad_host!", "10.0.0.0/8/8")) {
            Files.writeString(folder.resolve(".env"), "PORT=4001\nALLOWED_PEER_HOSTS=loopback," + bad + "\n");
            IOException refused = assertThrows(IOException.class, () -> NodeConfig.fromFolder(folder), bad);
            assertTrue(refused.getMessage().contains("ALLOWED_PEER_HOSTS: '" + bad + "'"), refused.getMessage());
        }
        Files.writeString(folder.resolve(".env"), "PORT=4001\nHOST=0.0.0.0\nMY_ADDRESS=ws://198.18.0.1:4001\n"
                + "ALLOWED_PEER_HOSTS=198.18.0.0/24,fd00::/8,peer.lan\n");
        NodeConfig config = NodeConfig.fromFolder(folder);
        assertEquals("ws://198.18.0.1:4001", config.myAddress());
    }

    @Test
    void allowedPeerHostsTakesNamesAddressesAndRangesOfBothFamilies() {
        PeerAddresses rules = new PeerAddresses("ws://198.18.0.1:4001", 4001,
                List.of("198.18.0.0/24", "fd00::/8", "peer.lan", "203.0.113.9"), List.of());
        for (String yes : List.of("ws://198.18.0.77:4001", "ws://[fd12::1]:4001", "ws://peer.lan:4002", "ws://203.0.113.9:1")) {
            assertTrue(rules.isAllowed(yes), yes);
        }
        for (String no : List.of("ws://198.18.1.1:4001", "ws://[fe80::1]:4001", "ws://other.lan:4001", "ws://203.0.113.10:1",
                "ws://localhost:4002")) {
            assertFalse(rules.isAllowed(no), no);
        }
        assertTrue(rules.isOwn("ws://198.18.0.1:4001"));
        assertTrue(rules.isOwn("ws://localhost:4001"));
        assertTrue(rules.isOwn("ws://127.0.0.1:4001"));
        assertFalse(rules.isOwn("ws://198.18.0.2:4001"), "another host on the same port is another node");
    }

    private static String accept(String key) throws Exception {
        byte[] digest = java.security.MessageDigest.getInstance("SHA-1")
                .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return java.util.Base64.getEncoder().encodeToString(digest);
    }

    private Path folder(String name) throws IOException {
        return Files.createDirectories(dir.resolve(name));
    }

    private PeerNode startNode(NodeConfig config) throws IOException {
        PeerNode node = PeerNode.start(config);
        nodes.add(node);
        return node;
    }
}
