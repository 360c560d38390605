package wirelab.p2p;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A speed-up, kept apart from the story in {@link Inbox}: the TRANSACTION messages this node has
 * lately handled, by their exact text, with the digest of the transaction each carried. In a
 * full mesh of n nodes each transaction arrives n - 1 times, and since every node of ours
 * passes a transaction on in the one form it checked, the copies are equal byte for byte. A
 * copy found here is known to be a duplicate without parsing it: that parse was a third of the
 * CPU of 1,000 transactions gossiped over 50 nodes (JFR, measured before the broadcast tree,
 * when every node got n - 1 copies; with the tree it saves less). A message not found here is
 * simply parsed, so forgetting the oldest entries (the texts held are capped at 4 Mi
 * characters in all) costs time, never correctness.
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
