package wirelab.websocket;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Locale;

import wirelab.Trace;

/**
 * The client's side of RFC 6455, for a command that connects, says one thing and leaves (the
 * curriculum's add-transaction): the opening handshake with a fresh {@code Sec-WebSocket-Key},
 * masked frames, and the closing handshake. A node's long-lived connections to its peers use
 * the JDK's {@code java.net.http.WebSocket} instead; this one exists because creating an
 * HttpClient (its thread pool, selector and TLS context) cost a one-message command two
 * thirds of its run, 120 ms of 180 even from the start-up cache.
 *
 * <pre>
 * GET / HTTP/1.1                          HTTP/1.1 101 Switching Protocols
 * Host: localhost:4001                    Upgrade: websocket
 * Upgrade: websocket                ->    Connection: Upgrade
 * Connection: Upgrade               <-    Sec-WebSocket-Accept: base64(SHA-1(key + GUID))
 * Sec-WebSocket-Key: (16 random bytes, base64)
 * Sec-WebSocket-Version: 13
 * </pre>
 */
public final class WebSocketClient implements AutoCloseable {

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final SecureRandom random;
    private final int timeoutMs;
    private final String server;   // host:port, as --trace names it

    private WebSocketClient(Socket socket, SecureRandom random, int timeoutMs) throws IOException {
        this.socket = socket;
        this.server = socket.getInetAddress().getHostAddress() + ":" + socket.getPort();
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
        this.out = socket.getOutputStream();
        this.random = random;
        this.timeoutMs = timeoutMs;
    }

    /**
     * Connects to ws://host:port/ and completes the opening handshake: the connect has
     * {@code timeoutMs}, and so has the handshake after it (each its own, not one for both).
     */
    public static WebSocketClient connect(String host, int port, int timeoutMs) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host, port), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            WebSocketClient client = new WebSocketClient(socket, new SecureRandom(), timeoutMs);
            client.openingHandshake(host + ":" + port);
            return client;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    private void openingHandshake(String hostHeader) throws IOException {
        byte[] nonce = new byte[16];
        random.nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        out.write(("GET / HTTP/1.1\r\nHost: " + hostHeader + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        if (Trace.on()) {
            Trace.sent(server, "GET / HTTP/1.1", "opening handshake, Sec-WebSocket-Key: " + key);
        }
        String head = WebSocketHandshake.readHeaderSection(socket, in, System.nanoTime() + timeoutMs * 1_000_000L, 8 * 1024);
        if (Trace.on() && head != null) {
            Trace.received(server, head.lines().findFirst().orElse(""), head.lines().filter(line -> line.regionMatches(true, 0,
                    "Sec-WebSocket-Accept", 0, 20)).findFirst().orElse("no Sec-WebSocket-Accept")
                    + " (the server's proof: base64(SHA-1(key + " + WebSocketHandshake.WEBSOCKET_GUID + ")))");
        }
        if (head == null || !head.startsWith("HTTP/1.1 101 ")) {
            String firstLine = head == null ? "(a header section over 8 KiB)" : head.lines().findFirst().orElse("");
            throw new ProtocolException("expected HTTP/1.1 101 Switching Protocols, got " + firstLine);
        }
        String expected = "\r\nsec-websocket-accept: " + WebSocketHandshake.acceptFor(key).toLowerCase(Locale.ROOT) + "\r\n";
        if (!head.toLowerCase(Locale.ROOT).contains(expected)) {
            throw new ProtocolException("the server's Sec-WebSocket-Accept does not answer our key " + key);
        }
    }

    /** Sends one text message in one masked frame. */
    public void sendText(String text) throws IOException {
        WebSocketFrame.writeMasked(out, WebSocketFrame.TEXT, text.getBytes(StandardCharsets.UTF_8), newMask(), server);
    }

    /**
     * The closing handshake: our close frame (1000), then the server's answer, then we close
     * TCP. RFC 6455 (7.1.1) would have the server close TCP first; we do not wait for it, since
     * after both close frames nothing more can come. A server that does not answer within the
     * timeout is simply disconnected: what we sent before our close frame is written either way.
     */
    @Override
    public void close() throws IOException {
        try (socket) {
            WebSocketFrame.writeMasked(out, WebSocketFrame.CLOSE, new byte[] {0x03, (byte) 0xE8}, newMask(), server);   // 1000
            while (WebSocketFrame.readFromServer(in, 1 << 20, server).opcode() != WebSocketFrame.CLOSE) {
                // a message the server sent before it read our close: not ours to answer
            }
        } catch (java.io.EOFException | java.net.SocketTimeoutException e) {
            // the server closed, or did not answer in time: we are done all the same
        }
    }

    private byte[] newMask() {
        byte[] mask = new byte[4];
        random.nextBytes(mask);
        return mask;
    }
}
