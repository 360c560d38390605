package wirelab.websocket;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * The memory a {@link WebSocketServer} holds for messages still arriving, on all its
 * connections at once. A frame's header may promise a mebibyte; the payload buffer grows only
 * as bytes come ({@link WebSocketFrame}), so one connection holds what its peer sent. But 540
 * connections each sending half of a 1 MiB message and then waiting hold 270 MB, and a
 * per-connection limit does not see it. So every byte held beyond a frame's first 8 KiB (and
 * every fragment kept for a message in parts) is taken from this budget first, and given back
 * when the message is delivered or the connection ends. A message that would pass the budget,
 * or a quarter of it from one address, fails its connection with 1013 (try again later):
 * a normal client's messages, a few KiB each, never touch it (Netty's and Tomcat's global
 * memory limits, after CVE-2020-13935).
 */
final class UnfinishedMessages {

    private final long limit;
    private final long perSource;
    private long held;                                          // guarded by this
    private final Map<InetAddress, Long> bySource = new HashMap<>();

    UnfinishedMessages(long limit) {
        this.limit = limit;
        this.perSource = Math.max(1, limit / 4);
    }

    /** One connection's share: what it holds for the message now arriving. */
    final class Share {
        private final InetAddress source;
        private long taken;   // only the connection's reading thread touches it

        Share(InetAddress source) {
            this.source = source;
        }

        /** Takes {@code bytes} more; false, taking none, when the server or this address would pass its limit. */
        boolean take(long bytes) {
            synchronized (UnfinishedMessages.this) {
                long fromSource = bySource.getOrDefault(source, 0L);
                if (held + bytes > limit || fromSource + bytes > perSource) {
                    return false;
                }
                held += bytes;
                bySource.put(source, fromSource + bytes);
            }
            taken += bytes;
            return true;
        }

        /** Gives back all it took: the message was delivered, failed, or the connection ended. */
        void release() {
            if (taken == 0) {
                return;
            }
            synchronized (UnfinishedMessages.this) {
                held -= taken;
                bySource.computeIfPresent(source, (address, bytes) -> bytes - taken == 0 ? null : bytes - taken);
            }
            taken = 0;
        }
    }

    /** The bytes held now, on every connection. */
    synchronized long held() {
        return held;
    }
}
