package wirelab.websocket;

import static java.lang.System.Logger.Level.INFO;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

import wirelab.Sockets;

/**
 * One WebSocket a client opened to our {@link WebSocketServer}, as the server's user sees it:
 * send text, close, and the connection's state. The server's thread for this connection reads
 * its frames; {@link #send} may be called from any thread.
 *
 * <p>The state is the one RFC 6455 names (sections 4.1 and 7): OPEN once the opening handshake
 * is done; CLOSING once we have sent a close frame and wait for the peer's answer; CLOSED once
 * the TCP connection is gone, which the listener hears of exactly once, through onClose.
 */
public final class IncomingConnection {

    private static final System.Logger log = System.getLogger("websocket-server");

    /** RFC 6455's connection states, from the opening handshake on (CONNECTING is the handshake itself). */
    public enum State { OPEN, CLOSING, CLOSED }

    private final Socket socket;
    private final OutputStream out;
    private final HttpRequest request;
    private final String peer;
    private final WebSocketServer.Listener listener;
    private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);
    /** Every frame is written whole under this lock, so concurrent senders never interleave. */
    private final ReentrantLock sendLock = new ReentrantLock();

    IncomingConnection(Socket socket, OutputStream out, HttpRequest request, String peer, WebSocketServer.Listener listener) {
        this.socket = socket;
        this.out = out;
        this.request = request;
        this.peer = peer;
        this.listener = listener;
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
            WebSocketFrame.write(out, WebSocketFrame.TEXT, payload);
        } finally {
            sendLock.unlock();
        }
    }

    /** Starts the closing handshake; the peer's answering close frame ends the connection. */
    public void close(int code, String reason) {
        byte[] reasonBytes = reason.getBytes(StandardCharsets.UTF_8);
        byte[] payload = ByteBuffer.allocate(2 + reasonBytes.length).putShort((short) code).put(reasonBytes).array();
        sendLock.lock();
        try {
            if (!state.compareAndSet(State.OPEN, State.CLOSING)) {
                return;
            }
            WebSocketFrame.write(out, WebSocketFrame.CLOSE, payload);
            socket.setSoTimeout(2_000);   // the peer has 2 s to answer before we drop it
        } catch (IOException e) {
            abort();
        } finally {
            sendLock.unlock();
        }
    }

    /** Answers a ping with a pong carrying the same payload (5.5.2). */
    void sendPong(byte[] payload) throws IOException {
        sendFrame(WebSocketFrame.PONG, payload);
    }

    /** The peer sent a close frame: echo its code unless our own close frame is already out (5.5.1), then close TCP. */
    void answerClose(byte[] echo) throws IOException {
        sendLock.lock();
        try {
            if (state.compareAndSet(State.OPEN, State.CLOSING)) {
                WebSocketFrame.write(out, WebSocketFrame.CLOSE, echo);
            }
        } finally {
            sendLock.unlock();
        }
        abort();
    }

    /** Closes with {@code code} because the peer broke the protocol, then drops TCP. */
    void fail(int code, String reason) {
        log.log(INFO, peer + ": closing with " + code + ": " + reason);
        close(code, reason.length() > 100 ? reason.substring(0, 100) : reason);
        Sockets.closeAfterLastWord(socket, 1_000);
        reportClosed(code, reason);
    }

    /** Drops TCP without a close frame. */
    void abort() {
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
            WebSocketFrame.write(out, opcode, payload);
        } finally {
            sendLock.unlock();
        }
    }

    @Override
    public String toString() {
        return peer;
    }
}
