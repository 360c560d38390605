package wirelab.p2p;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a node has sent and received since it started, by message type, for {@code /status}:
 * {@code "messagesSent": {"HANDSHAKE": 3, "TRANSACTION": 12}}, the same for
 * {@code "messagesReceived"}, and {@code "bytesSent"} (the UTF-8 bytes of the messages' text,
 * frame headers not counted). Tests and the bench read them to see what gossip costs. And
 * {@code "refused"}: what the node turned away, by reason (a transaction too big, the pool
 * full, addresses past a source's rate, ...), so tests assert limits without reading logs.
 */
final class MessageCounts {

    private final Map<String, LongAdder> sent = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> received = new ConcurrentHashMap<>();
    private final AtomicLong bytesSent = new AtomicLong();
    private final Map<String, LongAdder> refused = new ConcurrentHashMap<>();

    void sent(String type, int bytes) {
        sent.computeIfAbsent(type, t -> new LongAdder()).increment();
        bytesSent.addAndGet(bytes);
    }

    /** Types are counted by name only when they are ones this node speaks ({@link Message.Type}); anything else counts as OTHER. */
    void received(String type) {
        received.computeIfAbsent(Message.Type.named(type) != null ? type : "OTHER", t -> new LongAdder()).increment();
    }

    void refused(Refusal reason) {
        refused.computeIfAbsent(reason.label, r -> new LongAdder()).increment();
    }

    Map<String, Long> refused() {
        return snapshot(refused);
    }

    Map<String, Long> sent() {
        return snapshot(sent);
    }

    Map<String, Long> received() {
        return snapshot(received);
    }

    long bytesSent() {
        return bytesSent.get();
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> counts) {
        Map<String, Long> copy = new TreeMap<>();
        counts.forEach((type, count) -> copy.put(type, count.sum()));
        return copy;
    }
}
