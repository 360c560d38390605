package wirelab;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;

/** The one socket habit both servers share: how to close after having the last word. */
public final class Sockets {

    private Sockets() {
    }

    /**
     * Ends our side with FIN, reads and discards what the peer still sends until it closes
     * too (or {@code maxWaitMs} pass), then closes. Closing a socket that has unread bytes makes
     * the kernel send RST instead of FIN, and a RST can make the peer lose what we wrote last
     * (the tail of a stream, a close frame, an HTTP error) before it reads it. The wait is one
     * deadline for the whole drain, so a peer trickling bytes cannot hold the thread.
     */
    public static void closeAfterLastWord(Socket socket, int maxWaitMs) {
        long deadline = System.nanoTime() + maxWaitMs * 1_000_000L;
        try (socket) {
            socket.shutdownOutput();
            InputStream in = socket.getInputStream();
            byte[] discard = new byte[4096];
            while (true) {
                long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
                if (remainingMs <= 0) {
                    return;
                }
                socket.setSoTimeout((int) remainingMs);
                if (in.read(discard) < 0) {
                    return;   // the peer closed its side: a clean FIN both ways
                }
            }
        } catch (IOException e) {
            // timed out, reset, or already closed: either way we are done
        }
    }
}
