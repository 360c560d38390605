package wirelab.websocket;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A WebSocket client written byte by byte, so tests can send what no real client would:
 * unmasked frames, reserved bits, lying lengths. Reads the server's frames back raw.
 */
public final class RawWebSocket implements AutoCloseable {

    public static final String RFC_SAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    public record Frame(boolean fin, int opcode, byte[] payload) {
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : -1;
        }

        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    public final Socket socket;
    final DataInputStream in;
    final OutputStream out;

    public RawWebSocket(int port) throws IOException {
        this(null, port, -1);
    }

    /**
     * Connects from {@code fromAddress} (another loopback address such as 127.0.0.2, so one
     * test plays several sources; null for the default), with a receive buffer of
     * {@code receiveBufferBytes} (-1 for the default): a small one makes a client that stops
     * reading fill the server's side quickly.
     */
    public RawWebSocket(String fromAddress, int port, int receiveBufferBytes) throws IOException {
        socket = new Socket();
        if (receiveBufferBytes > 0) {
            socket.setReceiveBufferSize(receiveBufferBytes);
        }
        if (fromAddress != null) {
            socket.bind(new InetSocketAddress(fromAddress, 0));
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Connects and completes a valid opening handshake. */
    public static RawWebSocket open(int port) throws IOException {
        RawWebSocket ws = new RawWebSocket(port);
        String response = ws.handshake("");
        if (!response.startsWith("HTTP/1.1 101 ")) {
            throw new IOException("expected 101, got " + response);
        }
        return ws;
    }

    /** Sends a valid upgrade request with {@code extraHeaders} ("Origin: ...\r\n") added; returns the response head. */
    public String handshake(String extraHeaders) throws IOException {
        writeAscii("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + RFC_SAMPLE_KEY + "\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n");
        return readHead();
    }

    public void writeAscii(String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    /** The HTTP response head, up to and including the blank line. */
    public String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    /** The whole HTTP response, head and body, until the server closes. */
    public String readResponse() throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    public void sendFrame(int firstByte, boolean masked, byte[] payload) throws IOException {
        sendFrame(firstByte, masked, payload, payload.length);
    }

    /** firstByte is FIN, RSV and opcode together, e.g. 0x81 for a final text frame. */
    public void sendFrame(int firstByte, boolean masked, byte[] payload, long declaredLength) throws IOException {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(firstByte);
        int maskBit = masked ? 0x80 : 0;
        if (declaredLength >= 0 && declaredLength < 126) {
            frame.write(maskBit | (int) declaredLength);
        } else if (declaredLength >= 0 && declaredLength <= 0xFFFF) {
            frame.write(maskBit | 126);
            frame.write((int) (declaredLength >> 8));
            frame.write((int) declaredLength);
        } else {
            frame.write(maskBit | 127);
            for (int i = 7; i >= 0; i--) {
                frame.write((int) (declaredLength >> (8 * i)));
            }
        }
        byte[] mask = {0x12, 0x34, 0x56, 0x78};
        if (masked) {
            frame.write(mask);
        }
        for (int i = 0; i < payload.length; i++) {
            frame.write(masked ? payload[i] ^ mask[i & 3] : payload[i]);
        }
        out.write(frame.toByteArray());
        out.flush();
    }

    public void sendText(String text) throws IOException {
        sendFrame(0x81, true, text.getBytes(StandardCharsets.UTF_8));
    }

    public Frame readFrame() throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        if ((b1 & 0x80) != 0) {
            throw new IOException("server frames must not be masked");
        }
        long length = b1 & 0x7F;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        return new Frame((b0 & 0x80) != 0, b0 & 0x0F, payload);
    }

    /** The next text message (one unfragmented frame, as the server sends them), skipping pings. */
    public String readText() throws IOException {
        while (true) {
            Frame frame = readFrame();
            if (frame.opcode() == 0x1) {
                return new String(frame.payload(), java.nio.charset.StandardCharsets.UTF_8);
            }
        }
    }

    /** How many text messages holding {@code part} arrive until none has come for {@code quietMs}. */
    public int countTextsUntilQuiet(String part, int quietMs) throws IOException {
        int timeout = socket.getSoTimeout();
        socket.setSoTimeout(quietMs);
        int count = 0;
        try {
            while (true) {
                if (readText().contains(part)) {
                    count++;
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            return count;
        } finally {
            socket.setSoTimeout(timeout);
        }
    }

    /** Reads frames until a close frame, returning its code; -1 if TCP closed without one. */
    public int awaitCloseCode() throws IOException {
        try {
            while (true) {
                Frame frame = readFrame();
                if (frame.opcode() == 0x8) {
                    return frame.closeCode();
                }
            }
        } catch (java.io.EOFException | java.net.SocketException e) {
            return -1;
        }
    }

    public boolean closedByServer() throws IOException {
        try {
            InputStream raw = socket.getInputStream();
            return raw.read() < 0;
        } catch (java.net.SocketException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
