package wirelab.exchange;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ProtocolException;

import org.junit.jupiter.api.Test;

class PacketTest {

    @Test
    void encodesBigEndianAndDecodesBack() throws Exception {
        Packet packet = new Packet("MSFT", 'S', 0x01020304, 3015, 300);
        byte[] bytes = packet.encode();
        assertArrayEquals(new byte[] {'M', 'S', 'F', 'T', 'S', 1, 2, 3, 4, 0, 0, 0x0B, (byte) 0xC7, 0, 0, 1, 0x2C}, bytes);
        assertEquals(packet, Packet.decode(bytes));
    }

    @Test
    void requestBytesAreSigned() {
        assertArrayEquals(new byte[] {1, 0}, Packet.Request.streamAllPackets().encode());
        assertArrayEquals(new byte[] {2, 127}, Packet.Request.resendPacket(127).encode());
        assertEquals(new Packet.Request(2, -56), Packet.Request.decode(new byte[] {2, (byte) 200}));
        IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class, () -> Packet.Request.resendPacket(128));
        assertTrue(tooLarge.getMessage().contains("1..127"), tooLarge.getMessage());
    }

    @Test
    void aBadIndicatorNamesTheFieldTheOffsetAndTheByte() {
        byte[] bytes = new Packet("AAPL", 'B', 1, 2, 3).encode();
        bytes[4] = 'X';
        ProtocolException e = assertThrows(ProtocolException.class, () -> Packet.decode(bytes, 0, 34));
        assertTrue(e.getMessage().startsWith("packet at byte 34: buy/sell indicator must be 'B' or 'S', got 0x58"), e.getMessage());
    }

    @Test
    void aNonPrintableSymbolIsRefused() {
        byte[] bytes = new Packet("AAPL", 'B', 1, 2, 3).encode();
        bytes[2] = 0;
        ProtocolException e = assertThrows(ProtocolException.class, () -> Packet.decode(bytes));
        assertTrue(e.getMessage().contains("symbol must be 4 printable ASCII characters, got 0x00 at symbol byte 2"), e.getMessage());
    }

    @Test
    void aSequenceBelowOneIsRefused() {
        byte[] bytes = new Packet("AAPL", 'B', 1, 2, 3).encode();
        bytes[13] = (byte) 0x80;   // sequence becomes negative
        ProtocolException e = assertThrows(ProtocolException.class, () -> Packet.decode(bytes));
        assertTrue(e.getMessage().contains("sequence must be 1 or more, got -2147483645"), e.getMessage());
    }

    @Test
    void tooFewBytesIsRefused() {
        ProtocolException e = assertThrows(ProtocolException.class, () -> Packet.decode(new byte[] {'A', 'A'}, 0, 17));
        assertTrue(e.getMessage().contains("packet at byte 17: expected 17 bytes, got 2 (41 41)"), e.getMessage());
    }
}
