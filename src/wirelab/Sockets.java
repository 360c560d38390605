package wirelab;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The socket habits every server and client here shares, each written once: listening with a
 * deep accept queue, the accept loop, a read with one deadline for a whole request, closing
 * after having the last word, and closing without caring whether it worked.
 */
public final class Sockets {

    /**
     * Connections the kernel may queue before we accept them. A burst of clients beyond it has
     * its connection attempts dropped and retried a second later, so it is set high; Linux caps
     * it at net.core.somaxconn (4096 on current kernels).
     */
    public static final int BACKLOG = 4096;

    /** After a failed accept, wait this long before the next, doubling up to {@link #MAX_ACCEPT_BACKOFF_MS}. */
    private static final long FIRST_ACCEPT_BACKOFF_MS = 10;
    private static final long MAX_ACCEPT_BACKOFF_MS = 1_000;

    private Sockets() {
    }

    /** A listening socket on {@code address}:{@code port} (0 picks a free port). */
    public static ServerSocket listen(InetAddress address, int port) throws IOException {
        ServerSocket serverSocket = new ServerSocket();
        try {
            serverSocket.bind(new InetSocketAddress(address, port), BACKLOG);
            return serverSocket;
        } catch (IOException e) {
            serverSocket.close();
            throw e;
        }
    }

    /**
     * Accepts connections until {@code serverSocket} is closed, and serves each on a virtual
     * thread of its own. An error that persists (too many open files: every accept fails at
     * once) would spin this loop and flood the log, so after a failure it waits, 10 ms doubling
     * up to 1 s, and logs the first failure of a run and the recovery, not each one.
     */
    public static void acceptConnections(ServerSocket serverSocket, String threadName, Consumer<Socket> serve,
                                         System.Logger log) {
        acceptConnections(serverSocket, threadName, serve, new Semaphore(Integer.MAX_VALUE), log);
    }

    /**
     * As above, holding at most as many sockets as {@code sockets} has permits: one is taken
     * before each accept and given back when {@code serve} returns (having closed its socket).
     * With none free the loop waits, and new connections queue in the kernel, costing this
     * process no file descriptor, until one closes. A flood that is refused still holds each
     * socket while the refusal is written and the client given time to read it, so counting
     * only the sockets that were let in would not bound what a flood holds.
     */
    public static void acceptConnections(ServerSocket serverSocket, String threadName, Consumer<Socket> serve,
                                         Semaphore sockets, System.Logger log) {
        long backoffMs = 0;
        int failures = 0;
        while (!serverSocket.isClosed()) {
            try {
                if (!sockets.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;   // every socket is held; look again whether the server was closed meanwhile
                }
            } catch (InterruptedException e) {
                return;
            }
            try {
                Socket socket = serverSocket.accept();
                if (failures > 0) {
                    log.log(INFO, "accepting again after " + failures + " failed accepts");
                    failures = 0;
                    backoffMs = 0;
                }
                Thread.ofVirtual().name(threadName + "-" + socket.getPort()).start(() -> {
                    try {
                        serve.accept(socket);
                    } finally {
                        sockets.release();
                    }
                });
            } catch (IOException e) {
                sockets.release();
                if (serverSocket.isClosed()) {
                    return;
                }
                if (failures++ == 0) {
                    log.log(WARNING, "accept failed: " + e + "; backing off until it works again");
                }
                backoffMs = Math.min(MAX_ACCEPT_BACKOFF_MS, backoffMs == 0 ? FIRST_ACCEPT_BACKOFF_MS : backoffMs * 2);
                try {
                    Thread.sleep(backoffMs);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    /**
     * One read into {@code buffer[offset..offset+length)}, waiting no later than {@code deadline}
     * (a {@link System#nanoTime} value). The deadline covers a whole request, so a peer that
     * trickles a byte a second cannot stretch it: a per-read timeout alone would be reset by
     * every byte. Returns what {@link InputStream#read(byte[], int, int)} returns; throws
     * {@link SocketTimeoutException} naming {@code what} once the deadline has passed.
     */
    public static int readBefore(long deadline, Socket socket, InputStream in, byte[] buffer, int offset, int length,
                                 String what) throws IOException {
        socket.setSoTimeout(remainingMs(deadline, what));
        try {
            return in.read(buffer, offset, length);
        } catch (SocketTimeoutException e) {
            throw new SocketTimeoutException(what + " timed out");
        }
    }

    /** A connection to host:port made before {@code deadline}; the exception names the server. */
    public static Socket connect(String host, int port, long deadline) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), remainingMs(deadline, "connect"));
            return socket;
        } catch (IOException e) {
            socket.close();
            throw new IOException("cannot connect to " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    /** Milliseconds left before {@code deadline}, at least 1; a timeout naming {@code what} when none are. */
    public static int remainingMs(long deadline, String what) throws SocketTimeoutException {
        long remaining = (deadline - System.nanoTime()) / 1_000_000;
        if (remaining <= 0) {
            throw new SocketTimeoutException(what + " timed out");
        }
        return (int) Math.min(Integer.MAX_VALUE, remaining);
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
            byte[] discard = new byte[64];   // small: each waiting connection holds one, and most peers send only their FIN
            while (readBefore(deadline, socket, in, discard, 0, discard.length, "the drain") >= 0) {
                // discarded: the peer closing its side ends the loop, a clean FIN both ways
            }
        } catch (IOException e) {
            // timed out, reset, or already closed: either way we are done
        }
    }

    /** Closes, ignoring a failure: for sockets being torn down, where there is nobody left to tell. */
    public static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception ignored) {
            // already closed or broken: nothing to do
        }
    }
}
