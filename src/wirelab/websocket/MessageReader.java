package wirelab.websocket;

import static java.lang.System.Logger.Level.DEBUG;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.util.Arrays;

/**
 * One connection's frames read into messages (RFC 6455 sections 5.4 to 5.6), on the
 * connection's own thread, until it closes: fragments joined within the message limit and the
 * server's budget for unfinished messages; control frames answered as they come, even between
 * the fragments of a message; each whole text message handed to the listener; the peer's close
 * frame checked and answered. A frame or message that breaks the RFC fails the connection with
 * the RFC's close code ({@link CloseCode}), and the listener hears why.
 */
final class MessageReader {

    private static final System.Logger log = System.getLogger("websocket-server");

    private final IncomingConnection connection;
    private final DataInputStream in;
    private final UnfinishedMessages.Share share;
    private final WebSocketServer.Listener listener;
    private final int maxMessageBytes;
    private ByteArrayOutputStream message;   // non-null while a fragmented message is open
    private int messageOpcode;

    MessageReader(IncomingConnection connection, DataInputStream in, UnfinishedMessages.Share share,
                  WebSocketServer.Listener listener, int maxMessageBytes) {
        this.connection = connection;
        this.in = in;
        this.share = share;
        this.listener = listener;
        this.maxMessageBytes = maxMessageBytes;
    }

    /** Reads until the connection closes, either way; never throws. */
    void run() {
        try {
            while (true) {
                long room = maxMessageBytes - (message == null ? 0 : message.size());
                if (!take(WebSocketFrame.read(in, room, share, connection.toString()))) {
                    return;
                }
            }
        } catch (WebSocketFrame.ProtocolViolation violation) {
            listener.onError(connection, violation.closeCode, violation);
            connection.fail(violation.closeCode, violation.getMessage());
        } catch (IOException e) {
            // EOF or reset without a close frame: the peer is gone (killed, network lost)
            connection.reportClosed(CloseCode.ABNORMAL_CLOSURE,
                    connection.state() != IncomingConnection.State.OPEN ? "closed by us" : "connection lost: " + describe(e));
        } finally {
            share.release();
        }
    }

    /** One frame; false once it was the peer's close frame. */
    private boolean take(WebSocketFrame frame) throws IOException {
        byte[] complete = null;   // set when this frame ends a message
        switch (frame.opcode()) {
            case WebSocketFrame.TEXT, WebSocketFrame.BINARY -> {
                if (message != null) {
                    throw new WebSocketFrame.ProtocolViolation(CloseCode.PROTOCOL_ERROR,
                            "a new message started before the fragmented one was finished");
                }
                messageOpcode = frame.opcode();
                if (frame.fin()) {   // the usual case, a message in one frame: its payload is the message
                    complete = frame.payload();
                } else {
                    message = new ByteArrayOutputStream();
                    keepFragment(frame);
                }
            }
            case WebSocketFrame.CONTINUATION -> {
                if (message == null) {
                    throw new WebSocketFrame.ProtocolViolation(CloseCode.PROTOCOL_ERROR,
                            "a continuation frame came with no message to continue");
                }
                keepFragment(frame);
                if (frame.fin()) {
                    complete = message.toByteArray();
                    message = null;
                }
            }
            // Control frames may come between the fragments of a message (5.4), so a
            // ping is answered at once, even in the middle of a long message.
            case WebSocketFrame.PING -> connection.sendPong(frame.payload());
            case WebSocketFrame.PONG -> listener.onPong(connection, frame.payload());   // unasked ones too: 5.5.3 allows them
            case WebSocketFrame.CLOSE -> {
                receiveClose(frame.payload());
                return false;
            }
            default -> {   // WebSocketFrame.read refuses the reserved opcodes
            }
        }
        if (complete != null) {
            deliver(complete);
            share.release();
        }
        return true;
    }

    /** A fragment of a message in parts, kept until its last: its bytes count against the memory for unfinished messages. */
    private void keepFragment(WebSocketFrame frame) throws WebSocketFrame.ProtocolViolation {
        if (!share.take(frame.payload().length)) {
            throw new WebSocketFrame.ProtocolViolation(CloseCode.TRY_AGAIN_LATER, "the server holds all it may of "
                    + "messages still arriving (from this address, or in all); " + message.size() + " bytes into a message");
        }
        message.writeBytes(frame.payload());
    }

    private void deliver(byte[] payload) throws WebSocketFrame.ProtocolViolation {
        if (messageOpcode == WebSocketFrame.BINARY) {
            log.log(DEBUG, connection + ": ignored a binary message of " + payload.length + " bytes");
            return;
        }
        String text = WebSocketFrame.utf8(payload, "text message");
        try {
            listener.onText(connection, text);
        } catch (RuntimeException e) {   // a failure of ours: the peer is told so (1011), the server goes on
            throw new WebSocketFrame.ProtocolViolation(CloseCode.INTERNAL_ERROR, "the server failed on a message: " + e);
        }
    }

    /** The peer's close frame: check it, answer with the same code, then close TCP (7.1.5, 7.4). */
    private void receiveClose(byte[] payload) throws IOException {
        int code = CloseCode.NO_STATUS_RECEIVED;
        String reason = "";
        if (payload.length == 1) {
            throw new WebSocketFrame.ProtocolViolation(CloseCode.PROTOCOL_ERROR, "a close frame payload of 1 byte");
        }
        if (payload.length >= 2) {
            code = ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
            if (!CloseCode.maySend(code)) {
                throw new WebSocketFrame.ProtocolViolation(CloseCode.PROTOCOL_ERROR, "close code " + code + " may not be sent");
            }
            reason = WebSocketFrame.utf8(Arrays.copyOfRange(payload, 2, payload.length), "close reason");
        }
        connection.answerClose(payload.length >= 2 ? Arrays.copyOf(payload, 2) : new byte[0]);
        connection.reportClosed(code, reason);
    }

    private static String describe(IOException e) {
        return e instanceof EOFException ? "end of stream" : e instanceof SocketException ? e.getMessage() : e.toString();
    }
}
