package wirelab.websocket;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import wirelab.Trace;

/**
 * One WebSocket frame as RFC 6455 section 5.2 lays it out: read from a client (masked) or a
 * server (unmasked), and written by the server (unmasked) or by our client (masked). {@link WebSocketServer} puts frames together into messages.
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
     * declared length beyond it is refused before a single payload byte is allocated; and
     * every byte of payload held beyond the first {@link #FIRST_CHUNK} is first taken from the
     * server's {@code share} of memory for unfinished messages.
     */
    static WebSocketFrame read(DataInputStream in, long maxPayload, UnfinishedMessages.Share share, String peer) throws IOException {
        return read(in, maxPayload, true, share, peer);
    }

    /** Reads one server frame, as {@link WebSocketClient} does: it must not be masked. */
    static WebSocketFrame readFromServer(DataInputStream in, long maxPayload, String peer) throws IOException {
        return read(in, maxPayload, false, null, peer);
    }

    private static WebSocketFrame read(DataInputStream in, long maxPayload, boolean fromClient, UnfinishedMessages.Share share,
                                       String peer) throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        boolean fin = (b0 & 0x80) != 0;
        int rsv = (b0 >> 4) & 0x7;
        int opcode = b0 & 0x0F;
        boolean masked = (b1 & 0x80) != 0;
        long length = b1 & 0x7F;

        if (rsv != 0) {
            throw new ProtocolViolation(CloseCode.PROTOCOL_ERROR, "RSV bits must be 0 without a negotiated extension, got " + rsv);
        }
        if (opcode != CONTINUATION && opcode != TEXT && opcode != BINARY
                && opcode != CLOSE && opcode != PING && opcode != PONG) {
            throw new ProtocolViolation(CloseCode.PROTOCOL_ERROR, "unknown opcode 0x" + Integer.toHexString(opcode));
        }
        if (masked != fromClient) {
            throw new ProtocolViolation(CloseCode.PROTOCOL_ERROR, fromClient ? "client frames must be masked" : "server frames must not be masked");
        }
        int lengthForm = (int) length;   // 0-125: the length itself; 126: 16 bits follow; 127: 64 bits follow
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
            if (length < 0) {
                throw new ProtocolViolation(CloseCode.PROTOCOL_ERROR, "64-bit payload length must have its most significant bit 0");
            }
        }
        boolean control = opcode >= CLOSE;
        if (control && (!fin || length > MAX_CONTROL_PAYLOAD)) {
            throw new ProtocolViolation(CloseCode.PROTOCOL_ERROR, "control frame 0x" + Integer.toHexString(opcode)
                    + " must be unfragmented with at most 125 bytes, got fin=" + fin + " length=" + length);
        }
        if (!control && length > maxPayload) {
            throw new ProtocolViolation(CloseCode.MESSAGE_TOO_BIG, "message would exceed the limit: frame declares "
                    + length + " bytes, " + maxPayload + " allowed");
        }

        byte[] mask = new byte[4];
        if (masked) {
            in.readFully(mask);
        }
        byte[] payload = readPayload(in, (int) length, share);
        String maskedHex = Trace.on() ? Trace.payloadHex(payload) : null;
        if (masked) {
            applyMask(payload, mask);
        }
        WebSocketFrame frame = new WebSocketFrame(fin, opcode, payload);
        if (Trace.on()) {
            Trace.received(peer, headerHex(b0, b1, lengthForm, length, masked ? mask : null) + " " + maskedHex,
                    frame.meaning(lengthForm, masked ? mask : null));
        }
        return frame;
    }

    /** A payload longer than this is read into a buffer that grows as its bytes arrive. */
    static final int FIRST_CHUNK = 8 * 1024;

    /**
     * Reads {@code length} payload bytes. The length is only what the peer declared: fourteen
     * bytes of header may promise a mebibyte and send nothing more. So the buffer starts small
     * and doubles as bytes come in, and memory held for a frame follows what the peer has sent.
     */
    private static byte[] readPayload(DataInputStream in, int length, UnfinishedMessages.Share share) throws IOException {
        byte[] payload = new byte[Math.min(length, FIRST_CHUNK)];
        int filled = 0;
        while (filled < length) {
            if (filled == payload.length) {
                int grown = (int) Math.min(length, 2L * payload.length);
                if (share != null && !share.take(grown - payload.length)) {
                    throw new ProtocolViolation(CloseCode.TRY_AGAIN_LATER, "the server holds all it may of messages still arriving "
                            + "(from this address, or in all); " + filled + " bytes into a payload of " + length);
                }
                payload = Arrays.copyOf(payload, grown);
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
    static void write(OutputStream out, int opcode, byte[] payload, String peer) throws IOException {
        write(out, opcode, payload, null, peer);
    }

    /**
     * Writes one unfragmented client frame, masked with {@code mask} (4 bytes, new and
     * unpredictable for every frame, 10.3: so that a page's script cannot choose the bytes an
     * intermediary sees).
     */
    static void writeMasked(OutputStream out, int opcode, byte[] payload, byte[] mask, String peer) throws IOException {
        write(out, opcode, payload.clone(), mask, peer);
    }

    /** Header and payload go out in one write, so a small frame is one TCP segment. */
    private static void write(OutputStream out, int opcode, byte[] payload, byte[] mask, String peer) throws IOException {
        WebSocketFrame frame = Trace.on() ? new WebSocketFrame(true, opcode, payload.clone()) : null;
        int length = payload.length;
        int lengthBytes = length < 126 ? 0 : length <= 0xFFFF ? 2 : 8;
        int maskBytes = mask == null ? 0 : 4;
        byte[] bytes = new byte[2 + lengthBytes + maskBytes + length];
        bytes[0] = (byte) (0x80 | opcode);   // FIN, no RSV bits
        bytes[1] = (byte) ((mask == null ? 0 : 0x80) | (lengthBytes == 0 ? length : lengthBytes == 2 ? 126 : 127));
        for (int i = 0; i < lengthBytes; i++) {   // the extended length, big-endian
            bytes[2 + i] = (byte) ((long) length >> (8 * (lengthBytes - 1 - i)));
        }
        if (mask != null) {
            System.arraycopy(mask, 0, bytes, 2 + lengthBytes, 4);
            applyMask(payload, mask);
        }
        System.arraycopy(payload, 0, bytes, 2 + lengthBytes + maskBytes, length);
        if (frame != null) {   // before the write, so the peer's answer is never traced ahead of it
            Trace.sent(peer, headerHex(bytes[0] & 0xFF, bytes[1] & 0xFF, bytes[1] & 0x7F, length, mask) + " " + Trace.payloadHex(payload),
                    frame.meaning(bytes[1] & 0x7F, mask));
        }
        out.write(bytes);
        out.flush();
    }

    /** payload[i] XOR mask[i mod 4], in place: masking and unmasking are the same step (5.3). */
    static void applyMask(byte[] payload, byte[] mask) {
        for (int i = 0; i < payload.length; i++) {
            payload[i] ^= mask[i & 3];
        }
    }

    // --- for --trace: a frame's bytes grouped by the fields of the diagram, and what they mean ----

    /** "81 85 37fa213d": byte 0, byte 1, the extended length if any, the masking key if any. */
    private static String headerHex(int b0, int b1, int lengthForm, long length, byte[] mask) {
        String extended = lengthForm == 126 ? " " + String.format("%04x", length) : lengthForm == 127 ? " " + String.format("%016x", length) : "";
        return String.format("%02x %02x", b0, b1) + extended + (mask == null ? "" : " " + Trace.hex(mask, 0, 4));
    }

    /** "FIN TEXT(0x1) MASK len 5 (7-bit) key 37fa213d: "Hello"" */
    private String meaning(int lengthForm, byte[] mask) {
        String header = (fin ? "FIN " : "") + opcodeName(opcode) + "(0x" + Integer.toHexString(opcode) + ")"
                + (mask == null ? "" : " MASK") + " len " + payload.length
                + (lengthForm < 126 ? " (7-bit)" : lengthForm == 126 ? " (16-bit)" : " (64-bit)")
                + (mask == null ? "" : " key " + Trace.hex(mask, 0, 4));
        String content = switch (opcode) {
            case TEXT, CONTINUATION -> Trace.quote(new String(payload, java.nio.charset.StandardCharsets.UTF_8));
            case CLOSE -> payload.length < 2 ? "no code" : CloseCode.describe(((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF))
                    + (payload.length > 2 ? " " + Trace.quote(new String(payload, 2, payload.length - 2, java.nio.charset.StandardCharsets.UTF_8)) : "");
            default -> payload.length + " bytes";
        };
        return header + ": " + content;
    }

    static String opcodeName(int opcode) {
        return switch (opcode) {
            case CONTINUATION -> "CONTINUATION";
            case TEXT -> "TEXT";
            case BINARY -> "BINARY";
            case CLOSE -> "CLOSE";
            case PING -> "PING";
            case PONG -> "PONG";
            default -> "RESERVED";
        };
    }

    /** A text message's or a close reason's payload as text; not valid UTF-8 is 1007 (8.1). */
    static String utf8(byte[] bytes, String what) throws ProtocolViolation {
        if (isAscii(bytes)) {   // most messages here are JSON in ASCII: every byte is its own character
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ProtocolViolation(CloseCode.INVALID_FRAME_PAYLOAD_DATA, what + " is not valid UTF-8");
        }
    }

    /**
     * A speed-up measured against Node's ws echo server: a strict decoder made per message was
     * a tenth of the server's CPU for 30-byte messages. ASCII is valid UTF-8 byte for byte, so
     * such a message skips the decoder.
     */
    private static boolean isAscii(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0) {
                return false;
            }
        }
        return true;
    }
}
