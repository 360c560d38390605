package wirelab.exchange;

import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import wirelab.Trace;

/**
 * The BetaCrew wire format: one stock packet of 17 bytes, and the 2-byte request that asks
 * for packets. Both the exchange server and the client speak it through this file only.
 *
 * <pre>
 * Packet, 17 bytes, integers big-endian (network order):
 *
 * | offset | size | field              | type                      |
 * |--------|------|--------------------|---------------------------|
 * | 0      | 4    | symbol             | ASCII, e.g. "MSFT"        |
 * | 4      | 1    | buy/sell indicator | ASCII 'B' or 'S'          |
 * | 5      | 4    | quantity           | int32                     |
 * | 9      | 4    | price              | int32                     |
 * | 13     | 4    | packet sequence    | int32, from 1, contiguous |
 *
 * Request, 2 bytes:
 *
 * | offset | size | field     | type                                       |
 * |--------|------|-----------|--------------------------------------------|
 * | 0      | 1    | callType  | int8: 1 = stream all packets, 2 = resend   |
 * | 1      | 1    | resendSeq | int8: the sequence to resend (call type 2) |
 * </pre>
 *
 * Because {@code resendSeq} is one signed byte, only sequences 1..127 can ever be asked for
 * again: that is the protocol's own limit, not ours.
 */
public record Packet(String symbol, char buySellIndicator, int quantity, int price, int sequence) {

    public static final int SIZE = 17;
    public static final int SYMBOL_LENGTH = 4;

    /** Every packet, decoded or built, passes these checks: the one place the fields' rules live. */
    public Packet {
        if (symbol.length() != SYMBOL_LENGTH) {
            throw new IllegalArgumentException("symbol must be 4 printable ASCII characters, got \"" + symbol + "\"");
        }
        for (int i = 0; i < SYMBOL_LENGTH; i++) {
            char c = symbol.charAt(i);
            if (c < 0x21 || c > 0x7E) {
                throw new IllegalArgumentException("symbol must be 4 printable ASCII characters, got 0x"
                        + HexFormat.of().toHexDigits((byte) c) + " at symbol byte " + i);
            }
        }
        if (buySellIndicator != 'B' && buySellIndicator != 'S') {
            throw new IllegalArgumentException("buy/sell indicator must be 'B' or 'S', got 0x"
                    + HexFormat.of().toHexDigits((byte) buySellIndicator));
        }
        if (sequence <= 0) {
            throw new IllegalArgumentException("sequence must be 1 or more, got " + sequence);
        }
    }

    /** Writes this packet's 17 bytes into {@code buffer} at its position. */
    public void encodeInto(ByteBuffer buffer) {
        buffer.put(symbol.getBytes(StandardCharsets.US_ASCII))
              .put((byte) buySellIndicator)
              .putInt(quantity)
              .putInt(price)
              .putInt(sequence);   // ByteBuffer is big-endian unless told otherwise
    }

    public byte[] encode() {
        ByteBuffer buffer = ByteBuffer.allocate(SIZE);
        encodeInto(buffer);
        return buffer.array();
    }

    /**
     * Reads the 17 bytes at {@code offset} of {@code bytes}. {@code streamOffset} is where
     * those bytes stood in the whole TCP stream, so that an error can say where it happened.
     */
    public static Packet decode(byte[] bytes, int offset, long streamOffset) throws ProtocolException {
        if (bytes.length - offset < SIZE) {
            throw new ProtocolException("packet at byte " + streamOffset + ": expected " + SIZE + " bytes, got "
                    + (bytes.length - offset) + " (" + hex(bytes, offset, bytes.length - offset) + ")");
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, SIZE);
        // ISO-8859-1 maps each byte to the char of the same value, so a bad byte is reported as it came
        String symbol = new String(bytes, offset, SYMBOL_LENGTH, StandardCharsets.ISO_8859_1);
        char indicator = (char) (bytes[offset + SYMBOL_LENGTH] & 0xFF);
        buffer.position(offset + SYMBOL_LENGTH + 1);
        try {
            return new Packet(symbol, indicator, buffer.getInt(), buffer.getInt(), buffer.getInt());
        } catch (IllegalArgumentException e) {
            throw new ProtocolException("packet at byte " + streamOffset + ": " + e.getMessage()
                    + " (packet bytes " + hex(bytes, offset, SIZE) + ")");
        }
    }

    /** The sequence field of the packet at {@code offset}, read without decoding the rest. */
    public static int sequenceAt(byte[] bytes, int offset) {
        return ByteBuffer.wrap(bytes, offset + 13, 4).getInt();
    }

    /** True when the 17 bytes at {@code offset} encode exactly this packet; compares without decoding them. */
    public boolean sameAs(byte[] bytes, int offset) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes, offset, SIZE);
        for (int i = 0; i < SYMBOL_LENGTH; i++) {
            if (buffer.get() != (byte) symbol.charAt(i)) {
                return false;
            }
        }
        return buffer.get() == (byte) buySellIndicator && buffer.getInt() == quantity
                && buffer.getInt() == price && buffer.getInt() == sequence;
    }

    public static Packet decode(byte[] seventeenBytes) throws ProtocolException {
        return decode(seventeenBytes, 0, 0);
    }

    /** The 2-byte request. Both bytes are signed, as the original server reads them. */
    public record Request(int callType, int resendSeq) {
        public static final int SIZE = 2;
        public static final int STREAM_ALL_PACKETS = 1;
        public static final int RESEND_PACKET = 2;
        /** The largest sequence a one-signed-byte {@code resendSeq} can name. */
        public static final int MAX_RESEND_SEQ = Byte.MAX_VALUE;

        public static Request streamAllPackets() {
            return new Request(STREAM_ALL_PACKETS, 0);
        }

        public static Request resendPacket(int sequence) {
            if (sequence < 1 || sequence > MAX_RESEND_SEQ) {
                throw new IllegalArgumentException("resendSeq is one signed byte, so only sequences 1.."
                        + MAX_RESEND_SEQ + " can be asked for; got " + sequence);
            }
            return new Request(RESEND_PACKET, sequence);
        }

        public byte[] encode() {
            return new byte[] {(byte) callType, (byte) resendSeq};
        }

        public static Request decode(byte[] twoBytes) {
            return new Request(twoBytes[0], twoBytes[1]);   // byte widens with its sign: 0xFF is -1
        }

        /** "01 00" */
        public String hexByField() {
            return Trace.hex(encode(), 0, 1) + " " + Trace.hex(encode(), 1, 1);
        }

        /** "request: call type 1, stream all packets" */
        public String meaning() {
            return switch (callType) {
                case STREAM_ALL_PACKETS -> "request: call type 1, stream all packets";
                case RESEND_PACKET -> "request: call type 2, resend sequence " + resendSeq;
                default -> "request: call type " + callType + ", which the protocol does not have";
            };
        }
    }

    // --- for --trace: the same bytes, grouped by the fields of the table above -------------

    /** "4141504c 42 00000032 00000064 00000001": symbol, indicator, quantity, price, sequence. */
    public static String hexByField(byte[] bytes, int offset) {
        return Trace.hex(bytes, offset, 4) + " " + Trace.hex(bytes, offset + 4, 1) + " " + Trace.hex(bytes, offset + 5, 4)
                + " " + Trace.hex(bytes, offset + 9, 4) + " " + Trace.hex(bytes, offset + 13, 4);
    }

    /** --trace: each whole packet in {@code bytes[0..length)}, grouped by field and decoded; bad bytes as they are. */
    public static void trace(String peer, boolean received, byte[] bytes, int offset, int length) {
        for (int at = offset; at < offset + length; at += SIZE) {
            String meaning;
            try {
                meaning = decode(bytes, at, at).meaning();
            } catch (ProtocolException e) {
                meaning = "not a valid packet: " + e.getMessage();
            }
            if (received) {
                Trace.received(peer, hexByField(bytes, at), meaning);
            } else {
                Trace.sent(peer, hexByField(bytes, at), meaning);
            }
        }
    }

    /** "AAPL  B  quantity 50  price 100  sequence 1" */
    public String meaning() {
        return symbol + "  " + buySellIndicator + "  quantity " + quantity + "  price " + price + "  sequence " + sequence;
    }

    private static String hex(byte[] bytes, int offset, int length) {
        return HexFormat.ofDelimiter(" ").formatHex(bytes, offset, offset + length);
    }
}
