package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;

import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.security.SecureRandom;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

import wirelab.Silence;
import wirelab.Trace;

/**
 * One connection this node dialed, through the JDK's {@code java.net.http.WebSocket} client:
 * the listener the client calls, and its {@link Outbox}. (The other kind, a connection a peer
 * dialed to us, is {@link wirelab.websocket.IncomingConnection}; to gossip, both are a
 * {@link Neighbour}.) It tells its {@link PeerNode} when it opens, each message it receives,
 * and when it closes.
 *
 * <p>The JDK client allows one send in flight at a time: the outbox's thread waits for each,
 * and a peer that cannot take a message within 5 s is dropped.
 */
final class OutgoingConnection implements WebSocket.Listener {

    private static final System.Logger log = System.getLogger("peer-node");
    private static final int SEND_TIMEOUT_SECONDS = 5;
    /** The JDK client writes and reads the frames itself; --trace sees its messages, not its bytes. */
    private static final String JDK_FRAMES = "(frames by the JDK client)";

    final String address;
    final Neighbour neighbour;   // what gossip sees of this connection
    private final PeerNode node;
    private final StringBuilder partial = new StringBuilder();   // a text message arriving in parts
    private volatile WebSocket webSocket;
    private volatile Outbox outbox;
    private final Silence silence = new Silence();
    private int messageBytes;   // UTF-8 bytes of the text message now arriving in parts

    OutgoingConnection(String address, PeerNode node, MessageCounts counts, Strangers.Source source, NodeConfig.Limits limits) {
        this.address = address;
        this.node = node;
        this.neighbour = new Neighbour(address, Neighbour.Direction.OUTGOING, address, source, limits, this::send, this::close,
                counts);
    }

    /**
     * The JDK client every outgoing connection of a node goes through, on the node's virtual
     * threads. Peers are dialed at ws:// only ({@link PeerAddresses#normalize} takes no other
     * scheme), so the client is given a TLS context that is never set up: left to itself it
     * would build the JDK's default one at start, reading and parsing every CA certificate the
     * JDK trusts, for a protocol it never speaks: 550 classes, 4 MB of start-up cache and 9 MB
     * resident per node, measured (test/wirelab/bench/README.md, where the memory goes).
     */
    static HttpClient newClient(Executor executor) {
        return HttpClient.newBuilder().executor(executor).sslContext(new NoTls()).build();
    }

    /** A TLS context that answers what the client asks at start (its default parameters) and refuses to do TLS. */
    private static final class NoTls extends SSLContext {
        NoTls() {
            super(new SSLContextSpi() {
                @Override
                protected void engineInit(KeyManager[] keys, TrustManager[] trust, SecureRandom random) {
                }

                @Override
                protected SSLSocketFactory engineGetSocketFactory() {
                    throw refused();
                }

                @Override
                protected SSLServerSocketFactory engineGetServerSocketFactory() {
                    throw refused();
                }

                @Override
                protected SSLEngine engineCreateSSLEngine() {
                    throw refused();
                }

                @Override
                protected SSLEngine engineCreateSSLEngine(String host, int port) {
                    throw refused();
                }

                @Override
                protected SSLSessionContext engineGetServerSessionContext() {
                    throw refused();
                }

                @Override
                protected SSLSessionContext engineGetClientSessionContext() {
                    throw refused();
                }

                @Override
                protected SSLParameters engineGetDefaultSSLParameters() {
                    return new SSLParameters();
                }

                @Override
                protected SSLParameters engineGetSupportedSSLParameters() {
                    return new SSLParameters();
                }
            }, null, "none");
        }

        private static UnsupportedOperationException refused() {
            return new UnsupportedOperationException("a node dials ws:// only, never wss://");
        }
    }

    /** Queues one text message; the outbox's thread writes them in order. */
    private void send(String text) {
        outbox.send(text);
    }

    /** Leaves politely: a close frame, then the sending thread stops. */
    void close(int code, String reason) {
        webSocket.sendClose(code, reason);
        stopSending();
    }

    /** Drops the connection without a close frame, as a killed process would. */
    void abort(String why) {
        webSocket.abort();
        stopSending();
        node.disconnected(this, why);
    }

    /** Called by the node's keep-alive round: a ping for a silent peer, the end for a dead one ({@link Silence}). */
    void checkLiveness(int intervalMs) {
        switch (silence.check(intervalMs)) {
            case FINE -> { }
            case DEAD -> {
                log.log(INFO, address + " answered no ping for " + silence.silentMs() + " ms; dropped as dead");
                abort("no answer to ping within " + intervalMs + " ms");
            }
            case PING -> {
                silence.pingSent();
                try {
                    webSocket.sendPing(ByteBuffer.allocate(0));
                } catch (IllegalStateException e) {
                    // a ping is still being sent: the silence goes on counting
                }
            }
        }
    }

    private void stopSending() {
        Outbox current = outbox;
        if (current != null) {
            current.stop();
        }
    }

    private void write(String text) throws Exception {
        if (Trace.on()) {
            Trace.sent(address, JDK_FRAMES, "text message, " + text.length() + " chars: " + Trace.quote(text));
        }
        webSocket.sendText(text, true).get(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    // --- what the JDK client tells us -----------------------------------------------------------

    @Override
    public void onOpen(WebSocket webSocket) {
        this.webSocket = webSocket;
        this.outbox = new Outbox(address, this::write, this::abort);
        node.connected(this);
        webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        silence.heardFrom();
        partial.append(data);
        messageBytes += utf8Length(data);
        if (messageBytes > PeerNode.MAX_MESSAGE_BYTES) {   // bytes, as the server counts them, not UTF-16 chars
            abort("sent a message over the size limit of " + PeerNode.MAX_MESSAGE_BYTES + " bytes");
            return null;
        }
        if (last) {
            String text = partial.toString();
            if (Trace.on()) {
                Trace.received(address, JDK_FRAMES, "text message, " + text.length() + " chars: " + Trace.quote(text));
            }
            partial.setLength(0);
            messageBytes = 0;
            node.receive(text, neighbour);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
        silence.heardFrom();
        return WebSocket.Listener.super.onPing(webSocket, message);   // which answers with a pong
    }

    @Override
    public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
        silence.heardFrom();
        webSocket.request(1);
        return null;
    }

    /** How many bytes the characters take in UTF-8; a surrogate pair is one 4-byte character. */
    static int utf8Length(CharSequence text) {
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
        }
        return bytes;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        stopSending();
        node.disconnected(this, statusCode + (reason.isEmpty() ? "" : " " + reason));
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        stopSending();
        node.disconnected(this, rootMessage(error));
    }

    /**
     * What went wrong, from the HttpClient's chain of wrapped causes, e.g. "ConnectException
     * <- ClosedChannelException" for a port nobody listens on.
     */
    static String rootMessage(Throwable error) {
        List<String> causes = new ArrayList<>();
        for (Throwable e = error; e != null; e = e.getCause()) {
            if (e instanceof CompletionException || e instanceof ExecutionException) {
                continue;   // wrappers that only repeat their cause
            }
            boolean quiet = e.getMessage() == null || e.getMessage().isBlank();
            causes.add(e.getClass().getSimpleName() + (quiet ? "" : ": " + e.getMessage()));
        }
        return String.join(" <- ", causes);
    }

    @Override
    public String toString() {
        return address;
    }
}
