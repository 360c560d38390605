package wirelab.p2p;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A speed-up, kept apart from the story in PeerNode: the TRANSACTION messages this node has
 * lately handled, by their exact text, with the id each carried. In a full mesh of n nodes each
 * transaction arrives n - 1 times, and since every node passes a message on unchanged, the
 * copies are equal byte for byte. A copy found here is known to be a duplicate without parsing
 * it: that parse was a third of the CPU of 1,000 transactions gossiped over 50 nodes (JFR).
 * A message not found here is simply parsed, so forgetting the oldest entries (the texts held
 * are capped at 4 Mi characters in all) costs time, never correctness.
 */
final class SeenMessages {

    private static final long MAX_CHARS = 4L << 20;

    private final Map<String, String> idByText = new LinkedHashMap<>();
    private long chars;

    /** The id of the transaction this exact message text carried, or null when it is not remembered. */
    synchronized String idOf(String messageText) {
        return idByText.get(messageText);
    }

    /** Remembers a handled message, forgetting the oldest ones past the cap. */
    synchronized void remember(String messageText, String id) {
        if (messageText.length() > MAX_CHARS / 16 || idByText.putIfAbsent(messageText, id) != null) {
            return;   // a huge message is not worth holding; a known one is already here
        }
        chars += messageText.length();
        var oldest = idByText.entrySet().iterator();
        while (chars > MAX_CHARS && oldest.hasNext()) {
            chars -= oldest.next().getKey().length();
            oldest.remove();
        }
    }
}
