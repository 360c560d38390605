package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import wirelab.Silence;
import wirelab.Text;
import wirelab.Trace;
import wirelab.websocket.CloseCode;

/**
 * One connection this node dialed, through the JDK's {@code java.net.http.WebSocket} client
 * ({@link NoTls#newClient}): the listener the client calls, and, once it opens, its
 * {@link Neighbour} and {@link Outbox}. (The other kind, a connection a peer dialed to us, is
 * {@link wirelab.websocket.IncomingConnection}; to gossip, both are a {@link Neighbour}.) It
 * tells its {@link PeerNode} when it opens, each message it receives, and when it closes.
 *
 * <p>The JDK client allows one send in flight at a time: the outbox's thread waits for each,
 * and a peer that cannot take a message within {@code SEND_TIMEOUT_MS} is dropped.
 */
final class OutgoingConnection implements WebSocket.Listener {

    private static final System.Logger log = System.getLogger("peer-node");
    /** The JDK client writes and reads the frames itself; --trace sees its messages, not its bytes. */
    private static final String JDK_FRAMES = "(frames by the JDK client)";

    final String address;
    private final PeerNode node;
    private final MessageCounts counts;
    private final Sources.Source source;
    private final NodeConfig.Limits limits;
    private final Link link;
    private final StringBuilder partial = new StringBuilder();   // a text message arriving in parts
    private final Silence silence = new Silence();
    private volatile WebSocket webSocket;
    private volatile Neighbour neighbour;   // set when it opens: what gossip sees of this connection
    private int messageBytes;   // UTF-8 bytes of the text message now arriving in parts

    OutgoingConnection(String address, PeerNode node, MessageCounts counts, Sources.Source source, NodeConfig.Limits limits,
                       Link link) {
        this.address = address;
        this.link = link;
        this.node = node;
        this.counts = counts;
        this.source = source;
        this.limits = limits;
    }

    /** What gossip sees of this connection; null until it opens. */
    Neighbour neighbour() {
        return neighbour;
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
                ping(new byte[0]);   // if one is still being sent, the silence goes on counting
            }
        }
    }

    /** A ping (its payload, if any, the time it left: {@link Neighbour#ping}); skipped while one is still on its way (the client sends one at a time). */
    private void ping(byte[] payload) {
        try {
            webSocket.sendPing(ByteBuffer.wrap(payload));
        } catch (IllegalStateException e) {
            // a ping is still being sent
        }
    }

    private void stopSending() {
        Neighbour current = neighbour;
        if (current != null) {
            current.stopSending();
        }
    }

    private void write(String text) throws Exception {
        if (Trace.on()) {
            Trace.sent(address, JDK_FRAMES, "text message, " + text.length() + " chars: " + Trace.quote(text));
        }
        webSocket.sendText(text, true).get(limits.sendTimeoutMs(), TimeUnit.MILLISECONDS);
    }

    // --- what the JDK client tells us -----------------------------------------------------------

    @Override
    public void onOpen(WebSocket webSocket) {
        this.webSocket = webSocket;
        Outbox outbox = new Outbox(address, this::write, limits.maxSendQueueBytes(), this::abort);
        this.neighbour = new Neighbour(address, Neighbour.Direction.OUTGOING, address, link, source, limits, outbox,
                this::close, this::ping, counts);
        node.connected(this);
        webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        silence.heardFrom();
        partial.append(data);
        messageBytes += Text.utf8Length(data);
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
            try {
                node.receive(text, neighbour);
            } catch (RuntimeException e) {   // a bug of ours must not kill the connection's reader silently
                neighbour.log(WARNING, "could not handle a message from " + address + ": " + e + "; closing with 1011");
                neighbour.refused(Refusal.FAILED_ON_MESSAGE);
                close(CloseCode.INTERNAL_ERROR, "the node failed on a message");
                return null;
            }
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
        silence.heardFrom();
        return WebSocket.Listener.super.onPing(webSocket, message);   // the client has already queued the pong; this asks for the next frame
    }

    @Override
    public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
        silence.heardFrom();
        byte[] payload = new byte[message.remaining()];
        message.get(payload);
        neighbour.pong(payload);
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        stopSending();
        node.disconnected(this, statusCode + (reason.isEmpty() ? "" : " " + Text.abbreviate(reason)));
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
            causes.add(e.getClass().getSimpleName() + (quiet ? "" : ": " + Text.abbreviate(e.getMessage())));
        }
        return String.join(" <- ", causes);
    }

    @Override
    public String toString() {
        return address;
    }
}
