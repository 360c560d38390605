package wirelab.p2p;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A speed-up, kept apart from the story in {@link Inbox}: the TRANSACTION messages this node has
 * lately handled, by their exact text, with the digest of the transaction each carried. Every
 * node of ours passes a transaction on in the one form it checked, so the copies of one
 * transaction are equal byte for byte, and a copy found here is known to be a duplicate
 * without parsing it. It pays where copies are many: beside curriculum nodes, which flood
 * every transaction over every connection (a full mesh of n sends each node n - 1 copies; when
 * every node flooded, the parse was a third of the CPU of 1,000 transactions over 50 nodes).
 * Among nodes of ours the broadcast tree brings about one copy a node, and it saves nothing
 * measurable there (1,000 transactions over 50 nodes: 2.63 s with it, 2.72 s without, within
 * noise). A message not found here is simply parsed, so forgetting the oldest entries (the
 * texts held are capped at 4 Mi characters in all) costs time, never correctness.
 */
final class SeenMessages {

    private static final long MAX_CHARS = 4L << 20;

    /** What a remembered message carried: the transaction's digest, its name for the live view, and whether it was a repair. */
    record Seen(TransactionDigest digest, String name, boolean repair) {
    }

    private final Map<String, Seen> seenByText = new LinkedHashMap<>();
    private long chars;

    /** The transaction this exact message text carried, or null when it is not remembered. */
    synchronized Seen get(String messageText) {
        return seenByText.get(messageText);
    }

    /** Remembers a handled message, forgetting the oldest ones past the cap. */
    synchronized void remember(String messageText, TransactionDigest digest, String name, boolean repair) {
        if (messageText.length() > MAX_CHARS / 16 || seenByText.putIfAbsent(messageText, new Seen(digest, name, repair)) != null) {
            return;   // a huge message is not worth holding; a known one is already here
        }
        chars += messageText.length();
        var oldest = seenByText.entrySet().iterator();
        while (chars > MAX_CHARS && oldest.hasNext()) {
            chars -= oldest.next().getKey().length();
            oldest.remove();
        }
    }
}
