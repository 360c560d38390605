package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static wirelab.p2p.NodeUnderAttackTest.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.Capture;
import wirelab.websocket.RawWebSocket;

/**
 * scripts/wireshark/wirelab.lua reads the nodes' gossip as the nodes meant it: a capture of three
 * real nodes, made here, decoded by tshark message by message, against what the nodes counted
 * as sent and what they stored.
 */
@Timeout(120)
class GossipDissectorTest {

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();

    @AfterEach
    void stopNodes() {
        nodes.forEach(PeerNode::abort);
    }

    @Test
    void threeNodesReadAsTheyCountedAndStoredEveryMessage() throws Exception {
        List<Integer> ports = List.of(PeerNodeTest.freePort(), PeerNodeTest.freePort(), PeerNodeTest.freePort());
        Map<String, Long> sent = new HashMap<>();
        Set<String> addresses = new TreeSet<>();
        Wallet alice = Wallet.openOrCreate(dir.resolve("alice.json"));
        Capture capture = Capture.start(dir.resolve("network.pcapng"), filterFor(ports));
        try (capture) {
            for (int i = 0; i < 3; i++) {   // each knows the first, as the curriculum's clones do
                List<String> known = i == 0 ? List.of() : List.of("ws://localhost:" + ports.get(0));
                nodes.add(PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("node-" + i)), ports.get(i), known)));
                addresses.add("ws://localhost:" + ports.get(i));
            }
            await(() -> nodes.stream().allMatch(node -> node.neighbours().size() == 2), 20, "a full mesh of three");
            try (RawWebSocket client = RawWebSocket.open(ports.get(1))) {
                for (int i = 0; i < 3; i++) {
                    client.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"tx-" + i + "\",\"amount\":" + i + "}}");
                }
                JsonObject signed = alice.sign(JsonParser.parseString("{\"id\":\"signed-1\",\"amount\":7}").getAsJsonObject());
                client.sendText("{\"type\":\"TRANSACTION\",\"data\":" + signed + "}");
            }
            await(() -> nodes.stream().allMatch(node -> node.transactionCount() == 4), 20, "every node stores all four");
            Thread.sleep(1_500);   // IHAVE rounds: the tree's quiet beat is on the wire too
            for (PeerNode node : nodes) {
                for (Message.Type type : Message.Type.values()) {
                    sent.merge(type.name(), node.messagesSent(type.name()), Long::sum);
                }
                node.close();
            }
        }

        List<String> preferences = List.of("wirelab.ports:" + ports.get(0) + "," + ports.get(1) + "," + ports.get(2));
        Map<String, Long> onTheWire = new HashMap<>();
        List<String> ids = new ArrayList<>();
        List<String> signedFlags = new ArrayList<>();
        Set<String> handshakeAddresses = new TreeSet<>();
        for (List<String> frame : capture.fields(preferences, "wirelab", "wirelab.type", "wirelab.id", "wirelab.signed",
                "wirelab.address")) {
            for (String type : frame.get(0).split(",")) {
                onTheWire.merge(type, 1L, Long::sum);
            }
            ids.addAll(split(frame.get(1)));
            signedFlags.addAll(split(frame.get(2)));
            handshakeAddresses.addAll(split(frame.get(3)));
        }
        assertEquals(sent.get("TRANSACTION") + 4, onTheWire.get("TRANSACTION"),
                "every TRANSACTION the nodes sent, and the client's four: " + onTheWire + " against " + sent);
        assertEquals(sent.get("HANDSHAKE"), onTheWire.get("HANDSHAKE"), "every HANDSHAKE");
        assertTrue(onTheWire.getOrDefault("GRAFT", 0L) > 0 && onTheWire.getOrDefault("SYNC", 0L) > 0,
                "the tree's GRAFTs and catch-up's SYNCs are read too: " + onTheWire);
        assertTrue(onTheWire.keySet().stream().allMatch(type -> Message.Type.named(type) != null),
                "no type but the nodes' own: " + onTheWire);
        for (PeerNode node : nodes) {
            Set<String> stored = new TreeSet<>();
            node.transactions().forEach(transaction -> stored.add(transaction.get("id").toString()));
            assertEquals(stored, new TreeSet<>(ids), "the ids on the wire are the ones " + node.address() + " stored");
        }
        assertEquals(ids.size(), signedFlags.size());
        for (int i = 0; i < ids.size(); i++) {
            assertEquals(ids.get(i).equals("\"signed-1\"") ? "1" : "0", signedFlags.get(i), ids.get(i) + " signed or not");
        }
        assertEquals(addresses, handshakeAddresses, "the HANDSHAKEs name the three nodes");
        assertEquals(List.of(), capture.fields(preferences, "wirelab.malformed || wirelab.unknown_type || wirelab.lone_surrogate",
                "frame.number"),
                "nothing the nodes said to each other is flagged");
    }

    /** What a hostile client sends is shown for what it is, on a port the preference does not name as well. */
    @Test
    void hostileMessagesAreFlaggedNotHidden() throws Exception {
        int port = PeerNodeTest.freePort();
        Capture capture = Capture.start(dir.resolve("hostile.pcapng"), filterFor(List.of(port)));
        try (capture) {
            PeerNode node = PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("node")), port, List.of()));
            nodes.add(node);
            try (RawWebSocket client = RawWebSocket.open(port)) {
                client.socket.setTcpNoDelay(true);   // each message in a segment of its own, so each frame holds one
                for (String message : List.of("not JSON", "{\"type\":\"HANDSHAKE\",\"data\":\"ws://localhost:1\"}",
                        "{\"type\":\"GOSSIP_FROM_THE_FUTURE\",\"data\":{}}",
                        "{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"lone\",\"note\":\"\\uD800\"}}",
                        "{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"fine\"}}")) {
                    client.sendText(message);
                    Thread.sleep(50);
                }
            }
            await(() -> node.transactionCount() == 1, 10, "the good transaction stored");
        }
        List<String> preferences = List.of("wirelab.ports:" + port);
        List<String> infos = new ArrayList<>();
        StringBuilder notes = new StringBuilder();
        for (List<String> frame : capture.fields(preferences, "wirelab", "_ws.col.Info", "_ws.expert.message")) {
            infos.add(frame.get(0));
            notes.append(frame.get(1)).append('\n');
        }
        assertEquals(List.of("(not a JSON object)", "HANDSHAKE (data must be an array of addresses)", "GOSSIP_FROM_THE_FUTURE",
                "TRANSACTION \"lone\"", "TRANSACTION \"fine\""), infos, "each message, in order, in the Info column");
        for (String note : List.of("expected a JSON object", "HANDSHAKE: data must be an array of addresses",
                "type GOSSIP_FROM_THE_FUTURE: a node passes it by", "UTF-8 cannot hold it")) {
            assertTrue(notes.toString().contains(note), "an expert note says " + note + ": " + notes);
        }
        assertEquals(List.of(List.of("\"lone\"")), capture.fields(preferences, "wirelab.lone_surrogate", "wirelab.id"));

        // Without the port preference, our messages are still found by the WebSocket heuristic.
        assertEquals(List.of(List.of("\"lone\""), List.of("\"fine\"")),
                capture.fields(List.of("wirelab.ports:"), "wirelab.type == \"TRANSACTION\"", "wirelab.id"));
    }

    private static String filterFor(List<Integer> ports) {
        return String.join(" or ", ports.stream().map(port -> "tcp port " + port).toList());
    }

    private static List<String> split(String values) {
        return values.isEmpty() ? List.of() : List.of(values.split(","));
    }
}
