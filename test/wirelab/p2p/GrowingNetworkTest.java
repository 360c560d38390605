package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static wirelab.p2p.PeerNodeTest.freePort;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wirelab.websocket.JdkClient;

/**
 * A network that grows as real ones do: each new node is told of two earlier nodes picked at
 * random, and every node dials at most MAX_PEERS. Every transaction must still reach every
 * node, at close to one copy per node, and keep doing so after a third of the nodes die at once.
 */
@Timeout(300)
class GrowingNetworkTest {

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();

    @AfterEach
    void stopNodes() {
        nodes.forEach(PeerNode::abort);
    }

    @Test
    void threeHundredNodesWithEightPeersEachAllHoldEveryTransactionAndStillDoAfterAThirdDie() throws Exception {
        Random random = new Random(20261201);
        for (int i = 0; i < 300; i++) {
            List<String> knownPeers = new ArrayList<>();
            for (int k = 0; k < Math.min(2, i); k++) {
                knownPeers.add(nodes.get(random.nextInt(i)).address());
            }
            start(knownPeers);
        }
        await(() -> nodes.stream().allMatch(n -> n.connectedAddresses().size() >= 2), 60, "every node dials at least two");
        for (PeerNode node : nodes) {
            assertTrue(node.connectedAddresses().size() <= 8, node.address() + " dials " + node.connectedAddresses().size());
        }

        List<String> first = sendTransactions(nodes, 10, "warm-up");   // the first ones flood, and prune the tree into shape
        awaitEveryNodeHolds(nodes, first.size(), "the first 10");
        long sendsBefore = transactionSends(nodes);
        first.addAll(sendTransactions(nodes, 10, "before"));
        awaitEveryNodeHolds(nodes, first.size(), "the next 10");
        long perTransaction = (transactionSends(nodes) - sendsBefore) / 10;
        assertTrue(perTransaction <= 2 * 300, "each transaction should cost about one TRANSACTION per node (the full "
                + "mesh: 300 x 299); it cost " + perTransaction);

        List<PeerNode> survivors = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (i % 3 == 0) {
                nodes.get(i).abort();
            } else {
                survivors.add(nodes.get(i));
            }
        }
        nodes.retainAll(survivors);
        // a pause for repair: every survivor has neighbours again
        await(() -> survivors.stream().allMatch(n -> !n.connectedAddresses().isEmpty()), 60, "every survivor dials someone");
        List<String> second = sendTransactions(survivors, 10, "after");
        awaitEveryNodeHolds(survivors, first.size() + second.size(), "all 20");
    }

    @Test
    void aMixedNetworkOfOursWithTwoPeersAndCurriculumNodesStoresEachTransactionOnceEverywhere() throws Exception {
        for (int i = 0; i < 8; i++) {
            List<String> knownPeers = i == 0 ? List.of() : List.of(nodes.get(i - 1).address());
            PeerNode node = PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("m" + i)), freePort(), knownPeers)
                    .withMaxPeers(2));
            nodes.add(node);
        }
        try (CurriculumNode a = new CurriculumNode(); CurriculumNode b = new CurriculumNode()) {
            a.connectTo(nodes.get(0).address());
            b.connectTo(nodes.get(5).address());
            // joined both ways: a curriculum node hears only on the connection our node dials back to it
            await(() -> nodes.get(0).connectedAddresses().contains(a.address) && nodes.get(5).connectedAddresses().contains(b.address),
                    10, "the curriculum nodes joined, and were dialed back");
            a.addTransaction("{\"from\":\"learner-a\",\"amount\":1}");
            sendTransactions(List.of(nodes.get(3)), 5, "ours");
            b.addTransaction("{\"from\":\"learner-b\",\"amount\":2}");
            awaitEveryNodeHolds(nodes, 7, "both learners' and our five");
            await(() -> a.transactions.size() == 7 && b.transactions.size() == 7, 30,
                    "the curriculum nodes hold 7: " + a.transactions.size() + ", " + b.transactions.size());
            Thread.sleep(500);   // a duplicate or a changed copy still travelling would land by now
            assertEquals(7, a.transactions.size(), "a curriculum node stored a copy twice: " + a.transactions);
            assertEquals(7, b.transactions.size(), "a curriculum node stored a copy twice: " + b.transactions);
            for (PeerNode node : nodes) {
                assertEquals(7, node.transactionCount(), node.address());
            }
        }
    }

    @Test
    void aNodeAtItsIncomingLimitRefusesWith1013ButFirstTellsTheDialerWhereElseToGo() throws Exception {
        int fullPort = freePort();
        PeerNode full = PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("full")), fullPort, List.of())
                .withMaxIncomingPeers(1));
        nodes.add(full);
        PeerNode first = start(List.of(full.address()));
        await(() -> full.incomingAddresses().contains(first.address()), 10, "the first dialer is the full node's one incoming neighbour");
        PeerNode second = start(List.of(full.address()));   // it knows only the full node
        await(() -> second.connectedAddresses().contains(first.address()), 10,
                "the refused dialer dials the first one, learned from the refusal: " + second.connectedAddresses());
        assertEquals(List.of(first.address()), full.incomingAddresses(), "the full node took no second incoming neighbour");
    }

    // --- helpers ----------------------------------------------------------------------------

    private static long transactionSends(List<PeerNode> network) {
        return network.stream().mapToLong(n -> n.messagesSent("TRANSACTION")).sum();
    }

    private PeerNode start(List<String> knownPeers) throws Exception {
        int port = freePort();
        PeerNode node = PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("node-" + port)), port, knownPeers)
                .withSyncIntervalMs(600_000));   // catch-up's timer never fires here: gossip alone must deliver
        nodes.add(node);
        return node;
    }

    /** n transactions, each to a node picked at random; returns their ids. */
    private static List<String> sendTransactions(List<PeerNode> into, int n, String prefix) throws Exception {
        Random random = new Random(prefix.hashCode());
        List<String> ids = new ArrayList<>();   // a list the caller may add to
        for (int i = 0; i < n; i++) {
            JdkClient client = JdkClient.connect(into.get(random.nextInt(into.size())).address());
            client.send("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"" + prefix + "-" + i + "\",\"amount\":" + i + "}}");
            client.webSocket.sendClose(1000, "done").get(5, TimeUnit.SECONDS);
            ids.add(prefix + "-" + i);
        }
        return ids;
    }

    private static void awaitEveryNodeHolds(List<PeerNode> network, int count, String what) throws InterruptedException {
        await(() -> network.stream().allMatch(n -> n.transactionCount() >= count), 20, () -> {
            List<String> short_ = network.stream().filter(n -> n.transactionCount() < count)
                    .map(n -> n.address() + " holds " + n.transactionCount() + ", its links " + n.neighbours()).toList();
            return what + ": " + short_.size() + " of " + network.size() + " nodes hold fewer than " + count + ": " + short_;
        });
        for (PeerNode node : network) {
            assertEquals(count, node.transactionCount(), node.address() + " holds a transaction twice or one it was not sent");
        }
    }

    private static void await(BooleanSupplier condition, int seconds, String what) throws InterruptedException {
        await(condition, seconds, () -> what);
    }

    private static void await(BooleanSupplier condition, int seconds, java.util.function.Supplier<String> what)
            throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("within " + seconds + " s: " + what.get());
            }
            Thread.sleep(50);
        }
    }
}
