package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static wirelab.p2p.PeerNodeTest.awaitFullMesh;
import static wirelab.p2p.PeerNodeTest.awaitTrue;
import static wirelab.p2p.PeerNodeTest.freePort;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

import wirelab.websocket.JdkClient;

/** Catch-up: nodes that come and go end up holding every transaction, each once, on disk. */
@Timeout(90)
class CatchUpTest {

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();

    @AfterEach
    void stopNodes() {
        nodes.forEach(PeerNode::close);
    }

    @Test
    void aNodeDownWhile200TransactionsAreGossipedHasThemAllSoonAfterItsRestart() throws Exception {
        PeerNode first = startNode(freePort(), List.of());
        PeerNode second = startNode(freePort(), List.of(first.address()));
        int thirdPort = freePort();
        PeerNode third = startNode(thirdPort, List.of(first.address()));
        awaitFullMesh(List.of(first, second, third));
        stop(third);
        send(first, 200, "while-down");
        awaitTrue(() -> first.transactionCount() == 200 && second.transactionCount() == 200, "the two live nodes hold 200");

        long restarted = System.nanoTime();
        PeerNode back = startNode(thirdPort, List.of(first.address()));
        awaitTrue(() -> back.transactionCount() == 200, "the restarted node catches up on all 200");
        long ms = (System.nanoTime() - restarted) / 1_000_000;
        assertTrue(ms < 5_000, "catch-up took " + ms + " ms");
        assertSamePoolsOnDisk(List.of(first, second, back), 200);
    }

    @Test
    void aNodeThatStoredThirtyAloneAndThenDiedPassesThemOnOnceItIsBack() throws Exception {
        PeerNode first = startNode(freePort(), List.of());
        PeerNode second = startNode(freePort(), List.of(first.address()));
        awaitFullMesh(List.of(first, second));
        int lonelyPort = freePort();
        PeerNode lonely = startNode(lonelyPort, List.of());   // knows nobody: stores alone
        send(lonely, 30, "alone");
        awaitTrue(() -> lonely.transactionCount() == 30, "stored 30 alone");
        lonely.abort();   // dies as a killed process would
        nodes.remove(lonely);

        PeerNode back = startNode(lonelyPort, List.of(first.address()));
        awaitTrue(() -> first.transactionCount() == 30 && second.transactionCount() == 30,
                "the others got its 30: first " + first.transactionCount() + ", second " + second.transactionCount());
        awaitFullMesh(List.of(first, second, back));
        assertSamePoolsOnDisk(List.of(first, second, back), 30);
    }

    @Test
    void aNodeClonedLateGetsTheWholeHistoryAndPoolsConvergeToTheirUnion() throws Exception {
        PeerNode first = startNode(freePort(), List.of());
        PeerNode second = startNode(freePort(), List.of(first.address()));
        awaitFullMesh(List.of(first, second));
        send(first, 50, "history");
        awaitTrue(() -> second.transactionCount() == 50, "history gossiped");
        // a node with a history of its own joins late: each side lacks the other's
        int latePort = freePort();
        PeerNode late = startNode(latePort, List.of());
        send(late, 7, "its-own");
        awaitTrue(() -> late.transactionCount() == 7, "the late node stored its own 7");
        late.close();
        nodes.remove(late);
        PeerNode joined = startNode(latePort, List.of(second.address()));
        for (PeerNode node : List.of(first, second, joined)) {
            awaitTrue(() -> node.transactionCount() == 57, node.address() + " holds the union, has " + node.transactionCount());
        }
        assertSamePoolsOnDisk(List.of(first, second, joined), 57);
    }

    @Test
    void aCurriculumStyleNodeMeshesAndExchangesTransactionsWithOurs() throws Exception {
        PeerNode ours = startNode(freePort(), List.of());
        try (CurriculumNode theirs = new CurriculumNode()) {
            theirs.connectTo(ours.address());
            awaitTrue(() -> ours.connectedAddresses().contains(theirs.address)
                    && theirs.connectedAddresses().contains(ours.address()), "the two mesh both ways");
            theirs.addTransaction("{\"from\":\"learner\",\"to\":\"us\",\"amount\":1}");
            awaitTrue(() -> ours.transactionCount() == 1, "ours stores the learner's transaction");
            send(ours, 1, "to-the-learner");
            awaitTrue(() -> theirs.transactions.size() == 2, "the learner's node stores ours");
            Thread.sleep(300);   // a changed copy coming back would make it store a third
            assertEquals(2, theirs.transactions.size(), "the learner's node holds " + theirs.transactions);
            assertEquals(2, ours.transactionCount());
        }
    }

    @Test
    void anIdlessTransactionPassedByAForeignNodeToTwoOfOursIsStoredOnceEverywhere() throws Exception {
        PeerNode a = startNode(freePort(), List.of());
        PeerNode b = startNode(freePort(), List.of(a.address()));
        awaitFullMesh(List.of(a, b));
        try (CurriculumNode theirs = new CurriculumNode()) {
            theirs.connectTo(a.address());
            theirs.connectTo(b.address());
            awaitTrue(() -> theirs.connectedAddresses().size() == 2, "the foreign node is connected to both of ours");
            theirs.addTransaction("{\"from\":\"x\",\"to\":\"y\",\"amount\":3}");   // no id, as the curriculum sends it
            awaitTrue(() -> a.transactionCount() == 1 && b.transactionCount() == 1, "both of ours store it");
            Thread.sleep(500);   // copies passed on between ours, and back to the foreign node, arrive by now
            assertEquals(1, a.transactionCount());
            assertEquals(1, b.transactionCount());
            assertEquals(1, theirs.transactions.size(), "the foreign node got a changed copy back: " + theirs.transactions);
            assertEquals(JsonParser.parseString("{\"from\":\"x\",\"to\":\"y\",\"amount\":3}"), a.transactions().get(0),
                    "stored as it came, nothing added");
        }
    }

    @Test
    void catchUpMessagesOfBadShapeOrOutOfTurnAreIgnoredAndNothingIsStored() throws Exception {
        PeerNode node = startNode(freePort(), List.of());
        send(node, 3, "held");
        // stored first: a SYNC naming an empty pool (count 0, digest 0) is in sync with a node that holds none yet
        awaitTrue(() -> node.transactionCount() == 3, "the three are stored");
        JdkClient client = JdkClient.connect(node.address());
        client.send("{\"type\":\"SYNC_WANT\",\"data\":{\"ids\":[\"\\\"held-0\\\"\"]}}");   // never offered
        client.send("{\"type\":\"SYNC_IDS\",\"data\":{\"buckets\":[1],\"ids\":[]}}");       // out of turn
        client.send("{\"type\":\"SYNC\",\"data\":\"not an object\"}");
        client.send("{\"type\":\"SYNC_BUCKETS\",\"data\":{\"buckets\":[1,2]}}");
        client.send("{\"type\":\"SYNC\",\"data\":{\"count\":0,\"digest\":\"0000000000000000\"}}");
        String buckets = client.take();   // a fair SYNC is answered
        assertTrue(buckets.startsWith("{\"type\":\"SYNC_BUCKETS\""), buckets);
        client.send("{\"type\":\"SYNC\",\"data\":{\"count\":0,\"digest\":\"0000000000000000\"}}");   // again at once: refused
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < Message.MAX_CATCH_UP_IDS + 1; i++) {
            many.append(i == 0 ? "" : ",").append("\"x").append(i).append('"');
        }
        client.send("{\"type\":\"SYNC_IDS\",\"data\":{\"buckets\":[0],\"ids\":[" + many + "]}}");   // over the cap
        client.send("{\"type\":\"PING_ME\",\"data\":{}}");   // a type from some future version
        Thread.sleep(300);
        assertEquals(null, client.poll(), "nothing more is sent for bad or out-of-turn steps");
        assertEquals(3, node.transactionCount());
        // and the connection still works: a transaction is stored
        client.send("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"after\",\"amount\":1}}");
        awaitTrue(() -> node.transactionCount() == 4, "a normal transaction is still stored");
    }

    // --- helpers ----------------------------------------------------------------------------

    private PeerNode startNode(int port, List<String> knownPeers) throws IOException {
        Path folder = Files.createDirectories(dir.resolve("node-" + port));
        PeerNode node = PeerNode.start(NodeConfig.of(folder, port, knownPeers));
        nodes.add(node);
        return node;
    }

    private void stop(PeerNode node) {
        node.close();
        nodes.remove(node);
    }

    /** n transactions with ids prefix-0..prefix-(n-1), on one connection to the node. */
    static void send(PeerNode node, int n, String prefix) throws Exception {
        JdkClient client = JdkClient.connect(node.address());
        for (int i = 0; i < n; i++) {
            client.send("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"" + prefix + "-" + i + "\",\"amount\":" + i + "}}");
        }
        client.webSocket.sendClose(1000, "done").get(5, TimeUnit.SECONDS);
    }

    /** Every node's transactions.json holds the same ids, n of them, each once. */
    private void assertSamePoolsOnDisk(List<PeerNode> mesh, int n) throws IOException {
        Set<String> expected = null;
        for (PeerNode node : mesh) {
            List<String> ids = new ArrayList<>();
            for (JsonElement t : JsonParser.parseString(Files.readString(dir.resolve("node-" + node.port())
                    .resolve("transactions.json"))).getAsJsonArray()) {
                ids.add(TransactionId.of(t.getAsJsonObject()));
            }
            Set<String> unique = new HashSet<>(ids);
            assertEquals(n, ids.size(), node.address() + " has " + ids.size() + " on disk");
            assertEquals(n, unique.size(), node.address() + " holds duplicates");
            if (expected == null) {
                expected = unique;
            }
            assertEquals(expected, unique, node.address() + " holds other ids");
        }
    }
}
