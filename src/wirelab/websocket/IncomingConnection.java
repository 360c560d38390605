package wirelab.websocket;

import static java.lang.System.Logger.Level.INFO;

import java.io.IOException;
import java.io.InputStream;
import java.io.FilterInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

import wirelab.LogQuota;
import wirelab.Silence;
import wirelab.Sockets;

/**
 * One WebSocket a client opened to our {@link WebSocketServer}, as the server's user sees it:
 * send text, close, and the connection's state. The server's thread for this connection reads
 * its frames; {@link #send} may be called from any thread.
 *
 * <p>The state is the one RFC 6455 names (sections 4.1 and 7): OPEN once the opening handshake
 * is done; CLOSING once a close frame has been sent and the peer's answer is awaited; CLOSED
 * once the TCP connection is gone, which the listener hears of exactly once, through onClose.
 * Our close frame is the last frame we send: every send checks the state under the lock that
 * writes frames, so no data frame can follow it.
 */
public final class IncomingConnection {

    private static final System.Logger log = System.getLogger("websocket-server");

    /** RFC 6455's connection states, from the opening handshake on (CONNECTING is the handshake itself). */
    public enum State { OPEN, CLOSING, CLOSED }

    /** A close frame's reason: 125 bytes of payload at most (5.5), less the 2 of the code. */
    static final int MAX_CLOSE_REASON_BYTES = 123;

    private final Socket socket;
    private final OutputStream out;
    private final HttpRequest request;
    private final String peer;
    private final LogQuota lines;   // the log lines about this peer's source, across its connections
    private final WebSocketServer.Listener listener;
    private final int closeTimeoutMs;
    private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);
    /** Every frame is written whole under this lock, so concurrent senders never interleave. */
    private final ReentrantLock sendLock = new ReentrantLock();
    private final Silence silence = new Silence();

    IncomingConnection(Socket socket, OutputStream out, HttpRequest request, String peer, LogQuota lines,
                       WebSocketServer.Listener listener, int closeTimeoutMs) {
        this.socket = socket;
        this.out = out;
        this.request = request;
        this.peer = peer;
        this.lines = lines;
        this.listener = listener;
        this.closeTimeoutMs = closeTimeoutMs;
    }

    /** The address the connection comes from, as text: "127.0.0.1", "0:0:0:0:0:0:0:1". */
    public String remoteHost() {
        return socket.getInetAddress().getHostAddress();
    }

    /** The opening handshake's request: its target (path) and headers. */
    public HttpRequest request() {
        return request;
    }

    public State state() {
        return state.get();
    }

    /** Sends one text message. Once our close frame is out, no data frame may follow it (5.5.1). */
    public void send(String text) throws IOException {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        sendLock.lock();
        try {
            if (state.get() != State.OPEN) {
                throw new IOException("connection to " + peer + " is " + state.get() + "; cannot send");
            }
            WebSocketFrame.write(out, WebSocketFrame.TEXT, payload, peer);
        } finally {
            sendLock.unlock();
        }
    }

    /**
     * Starts the closing handshake (7.1.2): our close frame, then the peer's answering one ends
     * the connection. A peer that does not answer within the close timeout is dropped by a
     * timer, whatever the reading thread is blocked on; so is one that will not even read our
     * close frame. Returns at once.
     */
    public void close(int code, String reason) {
        if (!state.compareAndSet(State.OPEN, State.CLOSING)) {
            return;
        }
        startCloseDeadline(code, reason);
        byte[] payload = closePayload(code, reason);
        Thread.ofVirtual().name("close-" + peer).start(() -> {   // a peer that does not read may hold up the write
            try {
                sendFrame(WebSocketFrame.CLOSE, payload);
            } catch (IOException e) {
                abort();
            }
        });
    }

    /** The timer that ends a closing handshake the peer does not finish: it closes TCP, which ends any blocked read or write. */
    private void startCloseDeadline(int code, String reason) {
        Thread.ofVirtual().name("close-deadline-" + peer).start(() -> {
            try {
                Thread.sleep(closeTimeoutMs);
            } catch (InterruptedException e) {
                return;
            }
            if (state.get() != State.CLOSED) {
                lines.log(log, INFO, peer + " did not answer our close frame within " + closeTimeoutMs + " ms; dropped");
                reportClosed(code, reason + " (the peer did not answer our close frame)");
            }
        });
    }

    private static byte[] closePayload(int code, String reason) {
        byte[] reasonBytes = truncateUtf8(reason, MAX_CLOSE_REASON_BYTES);
        return ByteBuffer.allocate(2 + reasonBytes.length).putShort((short) code).put(reasonBytes).array();
    }

    /** True once the reading thread sees this connection's answer to our close, or any end. */
    boolean isClosed() {
        return state.get() == State.CLOSED;
    }

    /** Answers a ping with a pong carrying the same payload (5.5.2). */
    void sendPong(byte[] payload) throws IOException {
        sendFrame(WebSocketFrame.PONG, payload);
    }

    /** The peer sent a close frame: echo its code unless our own close frame is already out (5.5.1), then close TCP. */
    void answerClose(byte[] echo) throws IOException {
        if (state.compareAndSet(State.OPEN, State.CLOSING)) {
            sendFrame(WebSocketFrame.CLOSE, echo);
        }
        abort();
    }

    /** Closes with {@code code} because the peer broke the protocol, then drops TCP. */
    void fail(int code, String reason) {
        lines.log(log, INFO, peer + ": closing with " + code + ": " + reason);
        if (state.compareAndSet(State.OPEN, State.CLOSING)) {
            startCloseDeadline(code, reason);
            try {
                sendFrame(WebSocketFrame.CLOSE, closePayload(code, reason));
            } catch (IOException e) {
                // the peer is gone already; closing below is all that is left
            }
        }
        Sockets.closeAfterLastWord(socket, 1_000);
        reportClosed(code, reason);
    }

    /**
     * Sends a ping carrying {@code payload} (at most 125 bytes), which the peer must echo in its
     * pong (5.5.2): the server's user can time a round trip with it. Never waits for a send
     * under way: false, sending nothing, when one is (or the connection is closing).
     */
    public boolean ping(byte[] payload) {
        if (payload.length > WebSocketFrame.MAX_CONTROL_PAYLOAD || !sendLock.tryLock()) {
            return false;
        }
        try {
            if (state.get() != State.OPEN) {
                return false;
            }
            WebSocketFrame.write(out, WebSocketFrame.PING, payload, peer);
            return true;
        } catch (IOException e) {
            abort();
            return false;
        } finally {
            sendLock.unlock();
        }
    }

    // --- liveness: pings and the silence they measure ----------------------------------------

    /** Any bytes from the peer show it is alive. */
    void heardFrom() {
        silence.heardFrom();
    }

    /** Called by the server's keep-alive round: a ping for a silent peer, the end for a dead one ({@link Silence}). */
    void checkLiveness(int intervalMs) {
        if (state.get() == State.CLOSED) {
            return;
        }
        switch (silence.check(intervalMs)) {
            case FINE -> { }
            case DEAD -> {
                lines.log(log, INFO, peer + " answered no ping for " + silence.silentMs() + " ms; dropped as dead");
                reportClosed(CloseCode.ABNORMAL_CLOSURE, "no answer to ping within " + intervalMs + " ms");
            }
            case PING -> {
                if (sendLock.tryLock()) {   // a send already under way is not waited for: the next round tries again
                    try {
                        silence.pingSent();
                        if (state.get() == State.OPEN) {
                            WebSocketFrame.write(out, WebSocketFrame.PING, new byte[0], peer);
                        }
                    } catch (IOException e) {
                        abort();
                    } finally {
                        sendLock.unlock();
                    }
                }
            }
        }
    }

    // --- the end --------------------------------------------------------------------------------

    /** Drops TCP without a close frame; the reading thread then sees the end and reports it. */
    public void abort() {
        Sockets.closeQuietly(socket);
    }

    /** The connection is CLOSED: the socket goes, and the listener hears it once. */
    void reportClosed(int code, String reason) {
        if (state.getAndSet(State.CLOSED) != State.CLOSED) {
            abort();
            listener.onClose(this, code, reason);
        }
    }

    private void sendFrame(int opcode, byte[] payload) throws IOException {
        sendLock.lock();
        try {
            WebSocketFrame.write(out, opcode, payload, peer);
        } finally {
            sendLock.unlock();
        }
    }

    /** At most {@code maxBytes} of the text's UTF-8, cut at a character boundary, never inside one. */
    static byte[] truncateUtf8(String text, int maxBytes) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= maxBytes) {
            return bytes;
        }
        int end = maxBytes;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {   // bytes[end] continues a character: step back to its start
            end--;
        }
        return Arrays.copyOf(bytes, end);
    }

    @Override
    public String toString() {
        return peer;
    }

    /** The connection's input as the server reads frames from it: each read counts as hearing from the peer. */
    InputStream heardFromEachRead(InputStream in) {
        return new HeardFrom(in, this);
    }

    /** The connection's input, telling it each time bytes arrive: the silence that pings measure. */
    private static final class HeardFrom extends FilterInputStream {
        private final IncomingConnection connection;

        HeardFrom(InputStream in, IncomingConnection connection) {
            super(in);
            this.connection = connection;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            connection.heardFrom();
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            connection.heardFrom();
            return n;
        }
    }
}
