package wirelab.p2p;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import wirelab.Text;
import wirelab.TokenBucket;

/**
 * One connection between this node and another, whichever side dialed it: gossip goes both
 * ways on it. An OUTGOING neighbour is an {@link OutgoingConnection} (the JDK client), known by
 * the address we dialed. An INCOMING one is a {@link wirelab.websocket.IncomingConnection} that a
 * peer opened; its first HANDSHAKE asks to be admitted ({@link Membership}; until then it is
 * a client, such as add-transaction, and is sent no gossip), and it is known by the address it
 * gives, if any.
 *
 * <p>What a neighbour may be sent depends on what it has shown it speaks. A curriculum node
 * knows HANDSHAKE and TRANSACTION only, so that is all it ever gets. A neighbour shows it
 * speaks this node's other types (catch-up's SYNC messages, {@link BroadcastTree}'s IHAVE,
 * GRAFT and PRUNE) by naming its address in a {@code Wirelab-Gossip} header when it dials, or
 * by sending one of those types itself.
 *
 * <p>Each neighbour has its {@link Sources.Source}, whose budgets outlive the connection, and
 * two buckets of its own: messages and TRANSACTIONs read from it. When one is empty, the
 * connection's reader waits for it ({@link #paceMessage}), so a peer that floods is read at the
 * rate the limits allow, and the others are not held up by it. What it is sent goes through its
 * {@link Outbox}, bounded in bytes.
 *
 * <p>Fields written on one thread and read on others are volatile; each part of the state that
 * changes in steps ({@link CatchUp.Session}, {@link Link}) has its own lock.
 */
final class Neighbour {

    private static final System.Logger log = System.getLogger("peer-node");

    /** The header a node of ours sends in its opening handshake: its own address. */
    static final String GOSSIP_HEADER = "Wirelab-Gossip";

    enum Direction { OUTGOING, INCOMING }

    final String peer;   // how logs name it: the address we dialed, or host:port the peer dialed from
    final Direction direction;
    final CatchUp.Session catchUp = new CatchUp.Session();
    final Link link;   // shared by the two connections of a pair of our nodes that dialed each other
    final Sources.Source source;
    final long openedNanos = System.nanoTime();
    private final TokenBucket messages;
    private final TokenBucket transactions;
    private final Outbox outbox;
    private final BiConsumer<Integer, String> closer;
    private final Consumer<byte[]> pinger;
    private final MessageCounts counts;
    private final String address;
    private volatile boolean speaksWirelab;
    private volatile boolean admitted;
    private volatile long lastHandshakeAnswerNanos;
    private volatile long lastNewTransactionNanos = Long.MIN_VALUE;   // when it last brought a transaction we did not have

    Neighbour(String peer, Direction direction, String address, Link link, Sources.Source source,
              NodeConfig.Limits limits, Outbox outbox, BiConsumer<Integer, String> closer, Consumer<byte[]> pinger,
              MessageCounts counts) {
        this.peer = peer;
        this.link = link;
        this.source = source;
        this.messages = new TokenBucket(10.0 * limits.messagesPerSecond(), limits.messagesPerSecond());
        this.transactions = new TokenBucket(20.0 * limits.transactionsPerSecond(), limits.transactionsPerSecond());
        this.direction = direction;
        this.address = address;
        this.outbox = outbox;
        this.closer = closer;
        this.pinger = pinger;
        this.counts = counts;
    }

    /** Sends one message whose type is {@code type}; every message this node sends goes through here or {@link #sendLazily}, and is counted. */
    void send(Message.Type type, String text) {
        outbox.send(text, countSent(type, text));
    }

    /** Sends what the producer makes, one message at a time, as the connection takes them; the producer counts each ({@link #countSent}). */
    void sendLazily(Outbox.Producer producer) {
        outbox.sendLazily(producer);
    }

    /** Counts a message about to be sent; returns its size in UTF-8 bytes. */
    int countSent(Message.Type type, String text) {
        int bytes = Text.utf8Length(text);
        counts.sent(type.name(), bytes);
        return bytes;
    }

    /** Sends a HANDSHAKE naming these addresses: the curriculum's list, or our neighbours for peer exchange. */
    void sendHandshake(List<String> addresses) {
        send(Message.Type.HANDSHAKE, Message.handshake(addresses));
    }

    /** The connection is gone: its outbox's thread stops, and what is still queued is not sent. */
    void stopSending() {
        outbox.stop();
    }

    /** A WebSocket ping carrying the time it left, so that the pong measures the link's round trip ({@link Link}). */
    void ping() {
        pinger.accept(ByteBuffer.allocate(8).putLong(System.nanoTime()).array());
    }

    /** A pong came: one of our pings' times comes back in it, and the round trip is sampled. Pongs of other pings are let pass. */
    void pong(byte[] payload) {
        if (payload.length == 8) {
            double ms = (System.nanoTime() - ByteBuffer.wrap(payload).getLong()) / 1e6;
            if (ms >= 0 && ms < 60_000) {
                link.rttSample(ms);
            }
        }
    }

    /** How long a write to this neighbour has been blocked; 0 when none is. */
    long stalledMs() {
        return outbox.stalledMs();
    }

    /** Called by the connection's reader before each message it hands on: waits while the neighbour is past its message rate. */
    void paceMessage() throws InterruptedException {
        waitFor(messages);
    }

    /** The same for a TRANSACTION, against the neighbour's transaction rate. */
    void paceTransaction() throws InterruptedException {
        waitFor(transactions);
    }

    private static void waitFor(TokenBucket bucket) throws InterruptedException {
        while (!bucket.tryTake(1)) {
            Thread.sleep(1);
        }
    }

    /** Something it sent or asked for was refused: counted for the node and for its source. */
    void refused(Refusal reason) {
        counts.refused(reason);
        source.refused(reason);
    }

    /** Logs a line about this neighbour, within its source's quota ({@link wirelab.LogQuota}). */
    void log(Level level, String line) {
        source.log.log(log, level, line);
    }

    /** Closes the connection with a close code and a reason the peer can read. */
    void close(int code, String reason) {
        closer.accept(code, reason);
    }

    /** The peer's ws:// address: the one we dialed, or the one it gave; null when it gave none. */
    String address() {
        return address;
    }

    /** Its address when it has one, else how logs name it: how the live view finds it among the nodes it draws. */
    String addressOrPeer() {
        return address != null ? address : peer;
    }

    boolean speaksWirelab() {
        return speaksWirelab;
    }

    /** It sent one of this node's own types, or named itself in Wirelab-Gossip: true when that is news. */
    boolean showedItSpeaksWirelab() {
        boolean news = !speaksWirelab;
        speaksWirelab = true;
        return news;
    }

    /**
     * A neighbour gossip may go to: an outgoing connection from the moment it opens (we send the
     * HANDSHAKE); an incoming one once its HANDSHAKE admitted it ({@link Membership#receiveHandshake}).
     * Until then an incoming connection is a client (add-transaction, the live view's sender).
     */
    boolean isAdmitted() {
        return direction == Direction.OUTGOING || admitted;
    }

    void admitted() {
        admitted = true;
    }

    /** Evicted: no longer admitted (it is sent no more gossip) while its connection closes. */
    void evicted() {
        admitted = false;
    }

    /** It brought a transaction this node did not have: a useful relay, which eviction protects. */
    void broughtNewTransaction() {
        lastNewTransactionNanos = System.nanoTime();
    }

    /** When it last brought a transaction we did not have (System.nanoTime); Long.MIN_VALUE if never. */
    long lastNewTransactionNanos() {
        return lastNewTransactionNanos;
    }

    /** True at most once a second: a later HANDSHAKE from a node of ours is answered with ours, within that bound. */
    boolean mayAnswerHandshake() {
        long now = System.nanoTime();
        if (lastHandshakeAnswerNanos != 0 && now - lastHandshakeAnswerNanos < 1_000_000_000L) {
            return false;
        }
        lastHandshakeAnswerNanos = now;
        return true;
    }

    @Override
    public String toString() {
        return direction == Direction.OUTGOING || address == null ? peer : peer + " (" + address + ")";
    }
}
