package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static wirelab.p2p.PeerNodeTest.awaitTrue;
import static wirelab.p2p.PeerNodeTest.freePort;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wirelab.LogCapture;
import wirelab.LogLine;
import wirelab.websocket.CloseCode;
import wirelab.websocket.RawWebSocket;

/**
 * A node among strangers (issue 28): web pages, lenient HTTP, forged and flooding logs, dials
 * and uploads on request, too many sockets, oversized transactions. Each test plays the
 * stranger over real loopback sockets and reads the node's answer, its /status or its files.
 */
@Timeout(60)
class SourcesTest {

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();

    @AfterEach
    void stopNodes() {
        nodes.forEach(PeerNode::close);
    }

    @Test
    void plainHttpIsServedOnlyForThisNodesHostsAndToAllowedOrigins() throws Exception {
        PeerNode node = start(NodeConfig.of(folder("a"), freePort(), List.of()));
        int port = node.port();
        String rebound = get(port, "/status", "Host: rebind.attacker.test:" + port + "\r\n");
        assertTrue(rebound.startsWith("HTTP/1.1 421 Misdirected Request\r\n") && rebound.contains("rebind.attacker.test"), rebound);
        for (String path : List.of("/status", "/events", "/")) {
            String evil = get(port, path, "Host: localhost:" + port + "\r\nOrigin: https://evil.example\r\n");
            assertTrue(evil.startsWith("HTTP/1.1 403 Forbidden\r\n"), path + ": " + evil);
            assertFalse(evil.contains("Access-Control-Allow-Origin"), evil);
        }
        for (String host : List.of("localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "LOCALHOST")) {
            String served = get(port, "/status", "Host: " + host + "\r\n");
            assertTrue(served.startsWith("HTTP/1.1 200 OK\r\n"), host + ": " + served);
        }
        assertEquals(1, node.refused().get("HTTP for another Host"));
        assertEquals(3, node.refused().get("HTTP from another Origin"));
    }

    /** Refusals in the WebSocket layer are in the one ledger too: a bad request, a foreign page's upgrade, a broken frame. */
    @Test
    void upgradesRefusedAndFramesThatBreakTheProtocolAreCounted() throws Exception {
        PeerNode node = start(NodeConfig.of(folder("a"), freePort(), List.of()));
        try (RawWebSocket bad = new RawWebSocket(node.port())) {
            bad.writeAscii("GET / HTTP/1.1\r\nHost: localhost\r\nHost: twice\r\n\r\n");
            assertTrue(bad.readHead().startsWith("HTTP/1.1 400 "));
        }
        try (RawWebSocket foreign = new RawWebSocket(node.port())) {
            assertTrue(foreign.handshake("Origin: https://evil.example\r\n").startsWith("HTTP/1.1 403 "));
        }
        try (RawWebSocket unmasked = RawWebSocket.open(node.port())) {
            unmasked.sendFrame(0x81, false, "{}".getBytes(StandardCharsets.UTF_8));   // a client's frame must be masked
            assertEquals(1002, unmasked.readFrame().closeCode());
        }
        awaitTrue(() -> node.refused().getOrDefault("closed for breaking RFC 6455 (1002, 1007, 1009, 1013)", 0L) == 1,
                "the broken frame counted: " + node.refused());
        assertEquals(2, node.refused().get("an opening handshake refused (400, 403, 405, 426, 431) or too slow"), node.refused().toString());
    }

    @Test
    void requestsThatRfc9112DoesNotAllowGet400() throws Exception {
        PeerNode node = start(NodeConfig.of(folder("a"), freePort(), List.of()));
        for (String head : List.of(
                "GET /status HTTP/1.1\r\nHost : localhost\r\n\r\n",                        // whitespace before the colon
                "GET /status HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n",     // a second Host
                "GET /status HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n  folded\r\n\r\n",   // obs-fold
                "GET /status HTTP/1.1\r\nHost: localhost\r\nX-A: 1\n2\r\n\r\n",            // a bare LF inside a field
                "GET /status HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r2\r\n\r\n")) {         // a bare CR inside a field
            try (RawWebSocket raw = new RawWebSocket(node.port())) {
                raw.writeAscii(head);
                String response = raw.readResponse();
                assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), head.replace("\r", "\\r").replace("\n", "\\n")
                        + " -> " + response);
            }
        }
        assertTrue(get(node.port(), "/status", "Host: localhost\r\n").startsWith("HTTP/1.1 200 OK\r\n"));
    }

    @Test
    void aPeerCannotForgeALogLineNorFloodTheLog() throws Exception {
        PeerNode node = start(NodeConfig.of(folder("a"), freePort(), List.of()));
        LogCapture log = new LogCapture("peer-node", new LogLine()::format);
        try (log; RawWebSocket peer = RawWebSocket.open(node.port())) {
            peer.sendText("{\"type\":\"x\\n12:00:00.000 INFO    peer-node: stored transaction \\\"forged\\\"\\u001b[31m\"}");
            for (int i = 0; i < 5_000; i++) {
                peer.sendText("{\"type\":\"FLOOD\"}");
            }
            awaitTrue(() -> node.messagesReceived().getOrDefault("OTHER", 0L) == 5_001, "the node read every message");
            Thread.sleep(200);   // the quota refills a few lines
            peer.sendText("{\"type\":\"LAST\"}");
            // the message is counted before its line is logged: wait for the line itself
            awaitTrue(() -> log.lines().stream().anyMatch(line -> line.contains("unknown type LAST")), "the node logged the last one");
        }
        List<String> lines = log.lines();
        for (String line : lines) {
            assertEquals(line.length() - System.lineSeparator().length(), line.indexOf(System.lineSeparator()),
                    "one line per record: " + line);
            assertFalse(line.contains("\u001b"), "an escape character reached the log: " + line);
        }
        assertTrue(lines.stream().anyMatch(line -> line.contains("unknown type x\\n12:00:00.000 INFO")), "the forged text, escaped");
        long flood = lines.stream().filter(line -> line.contains("unknown type FLOOD")).count();
        assertTrue(flood < 5_000 / 2, flood + " lines for 5,000 ignored messages");
        assertTrue(lines.stream().anyMatch(line -> line.contains("suppressed ") && line.contains(" log lines about 127.0.0.1")),
                "one line says how many were suppressed");
    }

    @Test
    void aStrangersHandshakeNeverMakesTheNodeDialABadPortAndTeachesAtABoundedRate() throws Exception {
        PeerNode node = start(NodeConfig.of(folder("a"), freePort(), List.of()));
        try (RawWebSocket peer = RawWebSocket.open(node.port())) {
            peer.sendText("{\"type\":\"HANDSHAKE\",\"data\":[\"ws://localhost:25\",\"ws://localhost:6379\",\"ws://localhost:5432\"]}");
            awaitTrue(() -> node.refused().getOrDefault("address on a bad port", 0L) >= 3, "three bad ports refused");
            assertEquals(0, node.addressBookSize());
            assertTrue(node.attemptingToConnectToAddress().isEmpty() && node.connectedAddresses().isEmpty());
            for (int round = 0; round < 3; round++) {
                List<String> fresh = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    fresh.add("\"ws://localhost:" + (40_000 + round * 100 + i) + "\"");
                }
                peer.sendText("{\"type\":\"HANDSHAKE\",\"data\":[" + String.join(",", fresh) + "]}");
            }
            awaitTrue(() -> node.refused().getOrDefault("addresses past the source's rate", 0L) >= 1,
                    "the addresses past the source's burst are left unlearned");
        }
        // Each learned address is dialed once at most (a failed dial drops it), so dials <= addresses learned.
        Thread.sleep(300);
        assertTrue(node.addressBookSize() + node.connectedAddresses().size() + node.attemptingToConnectToAddress().size()
                <= Sources.ADDRESS_BURST + 1, "book " + node.addressBookSize());
    }

    @Test
    void catchUpIsServedWithinABudgetPerSourceThatAReconnectDoesNotRenew() throws Exception {
        Path folder = folder("a");
        StringBuilder pool = new StringBuilder("[\n");
        String padding = "p".repeat(500);
        for (int i = 0; i < 300; i++) {
            pool.append(i == 0 ? "" : ",\n").append("{\"id\":\"tx-").append(i).append("\",\"memo\":\"").append(padding).append("\"}");
        }
        Files.writeString(folder.resolve("transactions.json"), pool.append("\n]\n"));
        long budget = 1 << 16;
        PeerNode node = start(NodeConfig.of(folder, freePort(), List.of())
                .withLimits(NodeConfig.Limits.defaults(1_000).withCatchUpBytesPerMinute(budget)));
        assertEquals(300, node.transactionCount());
        int received = 0;
        int first = 0;
        long startedNanos = System.nanoTime();
        for (int reconnect = 0; reconnect < 4; reconnect++) {
            try (RawWebSocket stranger = RawWebSocket.open(node.port())) {
                stranger.sendText("{\"type\":\"SYNC\",\"data\":{\"count\":0,\"digest\":\"00\"}}");
                String buckets = stranger.readText();
                assertTrue(buckets.contains("SYNC_BUCKETS"), buckets);
                List<String> all = new ArrayList<>();
                for (int b = 0; b < PoolIndex.BUCKETS; b++) {
                    all.add(String.valueOf(b));
                }
                stranger.sendText("{\"type\":\"SYNC_IDS\",\"data\":{\"buckets\":[" + String.join(",", all) + "],\"ids\":[]}}");
                int got = stranger.countTextsUntilQuiet("\"TRANSACTION\"", 700);
                first = reconnect == 0 ? got : first;
                received += got;
            }
        }
        int perTransaction = 500 + 40;
        long allowed = budget + (long) ((System.nanoTime() - startedNanos) / 1e9 * budget / 60) + perTransaction;   // it refills
        assertTrue(first > 0, "an honest newcomer is served");
        assertTrue(received <= allowed / perTransaction + 1, received + " transactions served for a budget of " + allowed
                + " bytes (" + allowed / perTransaction + " of them); the pool holds 300");
        JsonObject status = JsonParser.parseString(new MeshView(node).statusJson()).getAsJsonObject();
        long served = status.getAsJsonObject("sources").getAsJsonObject("127.0.0.1").get("bytesServed").getAsLong();
        assertTrue(served <= allowed, served + " bytes served");
    }

    @Test
    void oneSourceCannotTakeEverySocket() throws Exception {
        PeerNode node = start(NodeConfig.of(folder("a"), freePort(), List.of())
                .withLimits(NodeConfig.Limits.defaults(1_000).withMaxConnectionsPerSource(4)));
        List<RawWebSocket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                idle.add(new RawWebSocket(node.port()));   // sockets that never send a byte
            }
            Thread.sleep(100);
            try (RawWebSocket fifth = new RawWebSocket(node.port())) {
                String answer = fifth.readResponse();
                assertTrue(answer.startsWith("HTTP/1.1 503 ") && answer.contains("the limit per address"), answer);
            }
        } finally {
            for (RawWebSocket socket : idle) {
                socket.close();
            }
        }
        awaitTrue(() -> {
            try (RawWebSocket again = RawWebSocket.open(node.port())) {
                again.sendText("{\"type\":\"PING-LIKE\"}");
                return true;
            } catch (IOException e) {
                return false;
            }
        }, "a client is served once the idle sockets are gone");
    }

    @Test
    void aClaimToBeAKnownPeerTakesOneSlotPastTheLimitAtMost() throws Exception {
        String knownPeer = "ws://localhost:" + freePort();   // nothing listens there: the node keeps trying it
        PeerNode node = start(NodeConfig.of(folder("a"), freePort(), List.of(knownPeer)).withMaxIncomingPeers(1));
        List<RawWebSocket> admitted = new ArrayList<>();
        try {
            admitted.add(handshake(node.port(), "ws://localhost:" + freePort()));   // a stranger takes the one slot
            awaitTrue(() -> node.incomingAddresses().size() == 1, "the stranger is a neighbour");
            admitted.add(handshake(node.port(), knownPeer));   // one that says it is the known peer still gets in
            awaitTrue(() -> node.incomingAddresses().size() == 2, "the known peer is let in past MAX_INCOMING_PEERS");
            for (int i = 0; i < 3; i++) {
                try (RawWebSocket forger = handshake(node.port(), knownPeer)) {
                    assertEquals(CloseCode.TRY_AGAIN_LATER, forger.awaitCloseCode(), "a second claim to the same known peer");
                }
            }
            assertEquals(2, node.incomingAddresses().size());
        } finally {
            for (RawWebSocket socket : admitted) {
                socket.close();
            }
        }
    }

    @Test
    void aClaimToBeAKnownPeerCountsOnlyFromThatPeersHost() {
        assertTrue(PeerAddresses.mayComeFrom("198.18.0.1", "ws://198.18.0.1:4001"));
        assertFalse(PeerAddresses.mayComeFrom("198.18.0.9", "ws://198.18.0.1:4001"), "another host forging the header");
        assertFalse(PeerAddresses.mayComeFrom("127.0.0.1", "ws://198.18.0.1:4001"), "this machine is not that host");
        assertFalse(PeerAddresses.mayComeFrom("198.18.0.1", "ws://localhost:4003"), "a remote host is not localhost");
        for (String loopback : List.of("127.0.0.1", "0:0:0:0:0:0:0:1")) {
            assertTrue(PeerAddresses.mayComeFrom(loopback, "ws://localhost:4003"), loopback);
            assertTrue(PeerAddresses.mayComeFrom(loopback, "ws://[::1]:4003"), loopback);
        }
        assertFalse(PeerAddresses.mayComeFrom("198.18.0.1", "ws://no-such-host.invalid:4001"), "a name that does not resolve");
    }

    /** A peer of ours that says HANDSHAKE, naming itself in the Wirelab-Gossip header. */
    private static RawWebSocket handshake(int port, String itself) throws IOException {
        RawWebSocket peer = new RawWebSocket(port);
        String response = peer.handshake(Neighbour.GOSSIP_HEADER + ": " + itself + "\r\n");
        assertTrue(response.startsWith("HTTP/1.1 101 "), response);
        peer.sendText("{\"type\":\"HANDSHAKE\",\"data\":[]}");
        return peer;
    }

    @Test
    void anOversizedTransactionAndOnePastAFullPoolAreRefusedAndNothingStoredIsLost() throws Exception {
        Path folder = folder("a");
        NodeConfig config = NodeConfig.of(folder, freePort(), List.of())
                .withLimits(NodeConfig.Limits.defaults(1_000).withMaxPoolBytes(1 << 16));
        PeerNode node = start(config);
        try (RawWebSocket client = RawWebSocket.open(node.port())) {
            client.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"big\",\"memo\":\"" + "b".repeat(70_000) + "\"}}");
            awaitTrue(() -> node.refused().keySet().stream().anyMatch(r -> r.startsWith("larger than MAX_TRANSACTION_BYTES")),
                    "the big one refused");
            for (int i = 0; i < 200; i++) {
                client.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"t-" + i + "\",\"memo\":\"" + "m".repeat(600) + "\"}}");
            }
            awaitTrue(() -> node.refused().keySet().stream().anyMatch(r -> r.startsWith("the pool is full")), "the pool fills");
        }
        Thread.sleep(300);
        int stored = node.transactionCount();
        assertTrue(stored > 50 && stored < 200, stored + " stored");
        node.close();
        nodes.remove(node);
        String file = Files.readString(folder.resolve("transactions.json"), StandardCharsets.UTF_8);
        assertTrue(file.length() <= (1 << 16) + 1_000, file.length() + " bytes on disk");
        PeerNode again = start(config);
        assertEquals(stored, again.transactionCount(), "every transaction accepted is there after a restart");
    }

    @Test
    void aPeerThatKeepsSendingInvalidMessagesIsHungUpOnAndAReconnectDoesNotResetIt() throws Exception {
        PeerNode node = start(NodeConfig.of(folder("a"), freePort(), List.of()));
        try (RawWebSocket peer = RawWebSocket.open(node.port())) {
            for (int i = 0; i < Sources.INVALID_BURST + 20; i++) {
                peer.sendText("not json " + i);
            }
            assertEquals(CloseCode.POLICY_VIOLATION, peer.awaitCloseCode());
        }
        try (RawWebSocket again = RawWebSocket.open(node.port())) {
            for (int i = 0; i < 10; i++) {
                again.sendText("still not json " + i);
            }
            assertEquals(CloseCode.POLICY_VIOLATION, again.awaitCloseCode(), "the budget outlives the connection");
        }
        assertTrue(node.refused().get("hung up: too many invalid messages") >= 2);
        try (RawWebSocket honest = RawWebSocket.open(node.port())) {   // not a ban: a valid message is still taken
            honest.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"fine\"}}");
        }
        awaitTrue(() -> node.transactionCount() == 1, "an honest transaction is stored");
    }

    @Test
    void aFloodingPeerIsReadAtItsRateWhileAnHonestTransactionCrossesTheMeshAtOnce() throws Exception {
        NodeConfig.Limits slow = NodeConfig.Limits.defaults(1_000).withMessagesPerSecond(100);   // a burst of 1,000
        PeerNode a = start(NodeConfig.of(folder("a"), freePort(), List.of()).withLimits(slow));
        PeerNode b = start(NodeConfig.of(folder("b"), freePort(), List.of(a.address())));
        awaitTrue(() -> b.connectedAddresses().contains(a.address()) && a.incomingAddresses().size() == 1, "b joined a");
        try (RawWebSocket flooder = RawWebSocket.open(a.port())) {
            Thread flood = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 0; i < 20_000; i++) {
                        flooder.sendText("{\"type\":\"FLOOD\",\"data\":" + i + "}");
                    }
                } catch (IOException e) {
                    // the test is over and closed the socket
                }
            });
            Thread.sleep(500);   // the flood is under way, past its burst
            long started = System.nanoTime();
            try (RawWebSocket honest = RawWebSocket.open(a.port())) {
                honest.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"honest\"}}");
            }
            awaitTrue(() -> b.transactionCount() == 1, "the honest transaction reached b");
            double seconds = (System.nanoTime() - started) / 1e9 + 0.5;
            assertTrue(seconds < 3.5, "it took " + seconds + " s");
            long flooded = a.messagesReceived().getOrDefault("OTHER", 0L);
            assertTrue(flooded <= 1_000 + 100 * (seconds + 1), flooded + " flood messages read in " + seconds + " s");
            flood.interrupt();
        }
    }

    // --- helpers ----------------------------------------------------------------------------

    private PeerNode start(NodeConfig config) throws IOException {
        PeerNode node = PeerNode.start(config);
        nodes.add(node);
        return node;
    }

    private Path folder(String name) throws IOException {
        return Files.createDirectories(dir.resolve(name));
    }

    private static String get(int port, String path, String headers) throws IOException {
        try (RawWebSocket raw = new RawWebSocket(port)) {
            raw.writeAscii("GET " + path + " HTTP/1.1\r\n" + headers + "\r\n");
            raw.socket.setSoTimeout(3_000);
            try {
                return raw.readResponse();
            } catch (SocketTimeoutException e) {   // /events streams: its head is enough
                return "(timed out)";
            }
        }
    }
}
