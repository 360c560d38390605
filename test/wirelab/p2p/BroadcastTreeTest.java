package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonParser;

/**
 * The broadcast tree's decisions without a socket: each neighbour sends through a function that
 * keeps what it was sent ({@link TestNeighbours}), so a test says what came in and reads what
 * went out. The stories over real sockets and slow links are in SlowLinksTest and PeerNodeTest.
 */
@Timeout(30)
class BroadcastTreeTest {

    @TempDir
    Path dir;

    private TransactionPool pool;
    private BroadcastTree tree;
    private final List<Neighbour> knownPeers = new ArrayList<>();

    /** A neighbour of ours, its link lazy, and what it was sent. */
    private record Peer(Neighbour neighbour, List<String> sent) {
        /** Waits a moment for the outbox's thread to hand over what it was given. */
        List<String> received(int expected) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (sent.size() < expected && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            Thread.sleep(50);   // and nothing more on its way
            return List.copyOf(sent);
        }
    }

    @BeforeEach
    void start() throws Exception {
        pool = TransactionPool.load(dir.resolve("transactions.json"));
        tree = new BroadcastTree(pool, new NodeEvents(), neighbour -> knownPeers.contains(neighbour));
    }

    @AfterEach
    void stop() throws InterruptedException {
        pool.close();
    }

    private static Peer peer(String address) {
        List<String> sent = Collections.synchronizedList(new ArrayList<>());
        return new Peer(TestNeighbours.ours(address, sent), sent);
    }

    private static TransactionDigest digest(String id) {
        return TransactionDigest.of(JsonParser.parseString("{\"id\":\"" + id + "\"}").getAsJsonObject());
    }

    @Test
    void aSecondCopyOnAnEagerLinkPrunesItUnlessItIsTheLastEagerLink() throws Exception {
        Peer a = peer("ws://a:1");
        Peer b = peer("ws://b:1");
        a.neighbour().link.setEager(true);
        b.neighbour().link.setEager(true);
        List<Neighbour> both = List.of(a.neighbour(), b.neighbour());
        tree.duplicate(digest("x"), a.neighbour(), both);
        assertEquals(List.of("{\"type\":\"PRUNE\",\"data\":{}}"), a.received(1));
        assertFalse(a.neighbour().link.isEager(), "the link that closed a cycle is lazy now");
        tree.duplicate(digest("x"), b.neighbour(), both);
        assertEquals(List.of(), b.received(0), "the last eager link keeps this node on the tree: no PRUNE");
        assertTrue(b.neighbour().link.isEager());
    }

    @Test
    void aCopyOnALinkLazyOnOurSideTellsTheOtherSide() throws Exception {
        Peer a = peer("ws://a:1");
        tree.duplicate(digest("x"), a.neighbour(), List.of(a.neighbour()));
        assertEquals(List.of("{\"type\":\"PRUNE\",\"data\":{}}"), a.received(1));
    }

    @Test
    void aPruneMakesTheLinkLazyAndANodeLeftWithoutAnEagerLinkGraftsAnother() throws Exception {
        Peer a = peer("ws://a:1");
        Peer b = peer("ws://b:1");
        knownPeers.add(b.neighbour());   // while the network forms, a node off the tree waits for a known peer
        a.neighbour().link.setEager(true);
        tree.receivePrune(a.neighbour(), List.of(a.neighbour(), b.neighbour()));
        assertFalse(a.neighbour().link.isEager());
        assertEquals(List.of("{\"type\":\"GRAFT\",\"data\":{\"ids\":[]}}"), b.received(1), "b is grafted to stay on the tree");
        assertTrue(b.neighbour().link.isEager());
    }

    @Test
    void anAnnouncedTransactionThatDoesNotComeIsGraftedFromItsAnnouncerAfterTheTimeout() throws Exception {
        Peer a = peer("ws://a:1");
        TransactionDigest late = digest("late");
        tree.receiveIHave(a.neighbour(), List.of(late));
        tree.graftOverdue();
        assertEquals(List.of(), a.received(0), "not before the GRAFT timeout");
        Thread.sleep(BroadcastTree.MIN_GRAFT_TIMEOUT_MS + 100);
        tree.graftOverdue();
        assertEquals(List.of("{\"type\":\"GRAFT\",\"data\":{\"ids\":[\"" + late + "\"]}}"), a.received(1));
        assertTrue(a.neighbour().link.isEager(), "the GRAFT mends the tree through that link");
    }

    @Test
    void anAnnouncedTransactionThatComesInTimeIsNotGrafted() throws Exception {
        Peer a = peer("ws://a:1");
        TransactionDigest onTime = digest("on-time");
        tree.receiveIHave(a.neighbour(), List.of(onTime));
        tree.stored(onTime);
        Thread.sleep(BroadcastTree.MIN_GRAFT_TIMEOUT_MS + 100);
        tree.graftOverdue();
        assertEquals(List.of(), a.received(0));
    }

    /** A round trip and a half, and up to four times its spread (at most one round trip more), within 1 to 2 s. */
    @Test
    void theGraftTimeoutFollowsTheLinksRoundTripWithinItsBounds() {
        Link unmeasured = new Link();
        assertEquals(BroadcastTree.DEFAULT_GRAFT_TIMEOUT_MS, BroadcastTree.graftTimeoutMs(unmeasured));
        Link fast = new Link();
        fast.rttSample(2);   // loopback: the floor holds, a second
        assertEquals(BroadcastTree.MIN_GRAFT_TIMEOUT_MS, BroadcastTree.graftTimeoutMs(fast));
        Link hundred = new Link();
        for (int i = 0; i < 50; i++) {
            hundred.rttSample(200 + (i % 2) * 20);   // 100 ms each way, a little jitter
        }
        long timeout = BroadcastTree.graftTimeoutMs(hundred);
        assertTrue(timeout >= 1_000 && timeout < 1_100, "1.5 x 210 ms plus its spread, then the floor: " + timeout);
        Link slow = new Link();
        slow.rttSample(1_000);
        assertEquals(1_500 + 1_000, slow.roundTripTimeoutMs(), "1.5 x 1000 ms plus min(4 x 500, 1000)");
        assertEquals(BroadcastTree.MAX_GRAFT_TIMEOUT_MS, BroadcastTree.graftTimeoutMs(slow), "the ceiling holds, two seconds");
    }

    @Test
    void lazyLinksTakeTurnsSoThatEachHearsOfEveryTransaction() throws Exception {
        Peer source = peer("ws://source:1");
        List<Peer> lazy = new ArrayList<>();
        List<Neighbour> neighbours = new ArrayList<>(List.of(source.neighbour()));
        for (int i = 0; i < 2 * BroadcastTree.D_LAZY; i++) {
            lazy.add(peer("ws://lazy-" + i + ":1"));
            neighbours.add(lazy.get(i).neighbour());
        }
        String json = "{\"id\":\"once\"}";
        TransactionDigest once = digest("once");
        pool.add(once, json).get(5, TimeUnit.SECONDS);
        tree.broadcast(once, "\"once\"", json, false, source.neighbour(), neighbours);
        tree.flushAnnouncements(neighbours);
        Thread.sleep(2);   // the next round's turns follow the time each link was told
        tree.flushAnnouncements(neighbours);
        for (Peer peer : lazy) {
            assertEquals(List.of("{\"type\":\"IHAVE\",\"data\":{\"ids\":[\"" + once + "\"]}}"), peer.received(1),
                    "two rounds of " + BroadcastTree.D_LAZY + " IHAVEs tell each of six lazy links once: " + peer.neighbour());
        }
        assertEquals(List.of(), source.received(0), "none back to the source");
    }

    @Test
    void aGraftMakesTheLinkEagerAndSendsOnlyWhatWasAnnouncedOnIt() throws Exception {
        Peer a = peer("ws://a:1");
        Peer source = peer("ws://source:1");
        String json = "{\"id\":\"told\"}";
        TransactionDigest told = digest("told");
        pool.add(told, json).get(5, TimeUnit.SECONDS);
        tree.broadcast(told, "\"told\"", json, false, source.neighbour(), List.of(a.neighbour(), source.neighbour()));
        assertEquals(List.of(), a.received(0), "a lazy link gets no TRANSACTION");
        tree.flushAnnouncements(List.of(a.neighbour(), source.neighbour()));
        assertEquals(List.of("{\"type\":\"IHAVE\",\"data\":{\"ids\":[\"" + told + "\"]}}"), a.received(1),
                "an IHAVE to the lazy link, none back to the source");
        assertEquals(List.of(), source.received(0));
        TransactionDigest untold = digest("held, never told");
        pool.add(untold, "{\"id\":\"held, never told\"}").get(5, TimeUnit.SECONDS);
        tree.receiveGraft(a.neighbour(), List.of(told, untold));
        assertTrue(a.neighbour().link.isEager());
        assertEquals("{\"type\":\"TRANSACTION\",\"data\":" + json + ",\"repair\":true}", a.received(2).get(1),
                "the announced one, as a repair; the one held but never announced on this link is not sent");
        assertEquals(2, a.received(2).size());
    }

    @Test
    void whileTheNetworkFormsANodeOffTheTreeJoinsThroughAKnownPeer() throws Exception {
        Peer stranger = peer("ws://stranger:1");
        Peer known = peer("ws://known:1");
        stranger.neighbour().link.rttSample(1);   // nearer, but not the way in
        known.neighbour().link.rttSample(50);
        knownPeers.add(known.neighbour());
        tree.ensureEager(List.of(stranger.neighbour(), known.neighbour()));
        assertEquals(List.of("{\"type\":\"GRAFT\",\"data\":{\"ids\":[]}}"), known.received(1));
        assertEquals(List.of(), stranger.received(0));
        assertTrue(known.neighbour().link.isEager());
        assertFalse(stranger.neighbour().link.isEager());
    }
}
