package wirelab.websocket;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.util.Arrays;

/**
 * One WebSocket frame as RFC 6455 section 5.2 lays it out, read from a client and written by
 * the server. {@link WebSocketServer} puts frames together into messages.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-------+-+-------------+-------------------------------+
 * |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 * |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 * |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 * | |1|2|3|       |K|             |                               |
 * +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 * |     Extended payload length continued, if payload len == 127  |
 * + - - - - - - - - - - - - - - - +-------------------------------+
 * |                               |Masking-key, if MASK set to 1  |
 * +-------------------------------+-------------------------------+
 * | Masking-key (continued)       |          Payload Data         |
 * +-------------------------------- - - - - - - - - - - - - - - - +
 * :                     Payload Data continued ...                :
 * +---------------------------------------------------------------+
 * </pre>
 *
 * Frames from a client are always masked; frames from the server never are (section 5.1).
 */
record WebSocketFrame(boolean fin, int opcode, byte[] payload) {

    // Opcodes, section 5.2. 0x3-0x7 and 0xB-0xF are reserved.
    static final int CONTINUATION = 0x0;
    static final int TEXT = 0x1;
    static final int BINARY = 0x2;
    static final int CLOSE = 0x8;
    static final int PING = 0x9;
    static final int PONG = 0xA;

    /** Control frames (opcode 0x8 and up) carry at most 125 bytes and are never fragmented (5.5). */
    static final int MAX_CONTROL_PAYLOAD = 125;

    // Close codes, section 7.4.1.
    static final int NORMAL_CLOSURE = 1000;
    static final int GOING_AWAY = 1001;
    static final int PROTOCOL_ERROR = 1002;
    static final int NO_STATUS_RECEIVED = 1005;    // never sent on the wire: "the close frame had no code"
    static final int ABNORMAL_CLOSURE = 1006;      // never sent on the wire: "the connection just dropped"
    static final int INVALID_FRAME_PAYLOAD_DATA = 1007;
    static final int MESSAGE_TOO_BIG = 1009;
    static final int INTERNAL_ERROR = 1011;

    boolean isControl() {
        return opcode >= CLOSE;
    }

    /** A frame or message the RFC says must fail the connection with {@code closeCode}. */
    static final class ProtocolViolation extends ProtocolException {
        private static final long serialVersionUID = 1L;
        final int closeCode;

        ProtocolViolation(int closeCode, String message) {
            super(message);
            this.closeCode = closeCode;
        }
    }

    /**
     * Reads one client frame. {@code maxPayload} is what the message still has room for: a
     * declared length beyond it is refused before a single payload byte is allocated.
     */
    static WebSocketFrame read(DataInputStream in, long maxPayload) throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        boolean fin = (b0 & 0x80) != 0;
        int rsv = (b0 >> 4) & 0x7;
        int opcode = b0 & 0x0F;
        boolean masked = (b1 & 0x80) != 0;
        long length = b1 & 0x7F;

        if (rsv != 0) {
            throw new ProtocolViolation(PROTOCOL_ERROR, "RSV bits must be 0 without a negotiated extension, got " + rsv);
        }
        if (opcode != CONTINUATION && opcode != TEXT && opcode != BINARY
                && opcode != CLOSE && opcode != PING && opcode != PONG) {
            throw new ProtocolViolation(PROTOCOL_ERROR, "unknown opcode 0x" + Integer.toHexString(opcode));
        }
        if (!masked) {
            throw new ProtocolViolation(PROTOCOL_ERROR, "client frames must be masked");
        }
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
            if (length < 0) {
                throw new ProtocolViolation(PROTOCOL_ERROR, "64-bit payload length must have its most significant bit 0");
            }
        }
        boolean control = opcode >= CLOSE;
        if (control && (!fin || length > MAX_CONTROL_PAYLOAD)) {
            throw new ProtocolViolation(PROTOCOL_ERROR, "control frame 0x" + Integer.toHexString(opcode)
                    + " must be unfragmented with at most 125 bytes, got fin=" + fin + " length=" + length);
        }
        if (!control && length > maxPayload) {
            throw new ProtocolViolation(MESSAGE_TOO_BIG, "message would exceed the limit: frame declares "
                    + length + " bytes, " + maxPayload + " allowed");
        }

        byte[] mask = new byte[4];
        in.readFully(mask);
        byte[] payload = readPayload(in, (int) length);
        for (int i = 0; i < payload.length; i++) {
            payload[i] ^= mask[i & 3];
        }
        return new WebSocketFrame(fin, opcode, payload);
    }

    /** A payload longer than this is read into a buffer that grows as its bytes arrive. */
    private static final int FIRST_CHUNK = 8 * 1024;

    /**
     * Reads {@code length} payload bytes. The length is only what the peer declared: fourteen
     * bytes of header may promise a mebibyte and send nothing more. So the buffer starts small
     * and doubles as bytes come in, and memory held for a frame follows what the peer has sent.
     */
    private static byte[] readPayload(DataInputStream in, int length) throws IOException {
        byte[] payload = new byte[Math.min(length, FIRST_CHUNK)];
        int filled = 0;
        while (filled < length) {
            if (filled == payload.length) {
                payload = Arrays.copyOf(payload, (int) Math.min(length, 2L * payload.length));
            }
            int n = in.read(payload, filled, payload.length - filled);
            if (n < 0) {
                throw new EOFException("the connection ended " + filled + " bytes into a payload of " + length);
            }
            filled += n;
        }
        return payload;
    }

    /** Writes one unmasked, unfragmented server frame. The caller holds the connection's send lock. */
    static void write(OutputStream out, int opcode, byte[] payload) throws IOException {
        int length = payload.length;
        byte[] header;
        if (length < 126) {
            header = new byte[] {(byte) (0x80 | opcode), (byte) length};
        } else if (length <= 0xFFFF) {
            header = new byte[] {(byte) (0x80 | opcode), 126, (byte) (length >> 8), (byte) length};
        } else {
            header = new byte[10];
            header[0] = (byte) (0x80 | opcode);
            header[1] = 127;
            for (int i = 0; i < 8; i++) {
                header[9 - i] = (byte) ((long) length >> (8 * i));
            }
        }
        out.write(header);
        out.write(payload);
        out.flush();
    }

    /**
     * Close codes a peer may send (7.4): 1000-1003, 1007-1014 and 3000-4999. The others are
     * reserved, or (1005, 1006, 1015) only ever reported locally, never sent.
     */
    static boolean isValidCloseCode(int code) {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }
}
