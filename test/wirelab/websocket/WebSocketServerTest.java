package wirelab.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class WebSocketServerTest {

    record Closed(int code, String reason) {
    }

    private WebSocketServer server;
    private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    private final BlockingQueue<Closed> closes = new LinkedBlockingQueue<>();
    private final BlockingQueue<IncomingConnection> opened = new LinkedBlockingQueue<>();
    private final BlockingQueue<Exception> errors = new LinkedBlockingQueue<>();

    /** Echoes every text message back, and records what it saw. */
    private final WebSocketServer.Listener echo = new WebSocketServer.Listener() {
        @Override
        public void onOpen(IncomingConnection connection) {
            opened.add(connection);
        }

        @Override
        public void onText(IncomingConnection connection, String text) {
            received.add(text);
            try {
                connection.send(text);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        }

        @Override
        public void onClose(IncomingConnection connection, int code, String reason) {
            closes.add(new Closed(code, reason));
        }

        @Override
        public void onError(IncomingConnection connection, int closeCode, Exception error) {
            errors.add(error);
        }
    };

    @BeforeEach
    void startServer() throws Exception {
        server = WebSocketServer.start(WebSocketServer.Options.onPort(0)
                .withMaxMessageBytes(64 * 1024).withHandshakeTimeoutMs(500), echo);
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    // --- with the JDK's own client ---------------------------------------------------------

    @Test
    void echoesATextMessage() throws Exception {
        JdkClient client = JdkClient.connect(server.port());
        client.send("héllo, wörld ✓");
        assertEquals("héllo, wörld ✓", client.take());
    }

    @Test
    void listensOnIpv6LoopbackToo() throws Exception {
        if (server.listeningOn().size() < 2) {
            return;   // this machine has no ::1; the IPv4 tests cover the rest
        }
        JdkClient client = JdkClient.connect("ws://[::1]:" + server.port() + "/");
        client.send("over ::1");
        assertEquals("over ::1", client.take());
    }

    @Test
    void echoesAMessageNearTheSizeLimit() throws Exception {
        String big = "x".repeat(64 * 1024 - 10);
        JdkClient client = JdkClient.connect(server.port());
        client.send(big);
        assertEquals(big, client.take());
    }

    @Test
    void putsAFragmentedMessageTogether() throws Exception {
        JdkClient client = JdkClient.connect(server.port());
        client.webSocket.sendText("first half, ", false).get(5, TimeUnit.SECONDS);
        client.webSocket.sendText("second half", true).get(5, TimeUnit.SECONDS);
        assertEquals("first half, second half", client.take());
    }

    @Test
    void answersPingWithPongCarryingTheSamePayload() throws Exception {
        JdkClient client = JdkClient.connect(server.port());
        client.webSocket.sendPing(ByteBuffer.wrap(new byte[] {1, 2, 3})).get(5, TimeUnit.SECONDS);
        ByteBuffer pong = client.pongs.poll(5, TimeUnit.SECONDS);
        assertEquals(ByteBuffer.wrap(new byte[] {1, 2, 3}), pong);
    }

    @Test
    void aClientsCloseIsEchoedWithItsCode() throws Exception {
        JdkClient client = JdkClient.connect(server.port());
        client.webSocket.sendClose(4000, "bye").get(5, TimeUnit.SECONDS);
        assertEquals(new JdkClient.Closed(4000, ""), client.awaitClose());
        assertEquals(new Closed(4000, "bye"), closes.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void theServerCanCloseWithItsOwnCode() throws Exception {
        JdkClient client = JdkClient.connect(server.port());
        IncomingConnection connection = opened.poll(5, TimeUnit.SECONDS);
        connection.close(4001, "server says bye");
        assertEquals(new JdkClient.Closed(4001, "server says bye"), client.awaitClose());
        assertEquals(4001, closes.poll(5, TimeUnit.SECONDS).code());   // the client echoed it
    }

    @Test
    void twoHundredConcurrentConnectionsEachEcho() throws Exception {
        List<Callable<String>> clients = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String message = "client " + i;
            clients.add(() -> {
                JdkClient client = JdkClient.connect(server.port());
                for (int round = 0; round < 5; round++) {
                    client.send(message + " round " + round);
                    String answer = client.take();
                    if (!answer.equals(message + " round " + round)) {
                        return "wrong echo: " + answer;
                    }
                }
                client.webSocket.sendClose(1000, "done").get(5, TimeUnit.SECONDS);
                return "ok";
            });
        }
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Future<String> result : executor.invokeAll(clients)) {
                assertEquals("ok", result.get());
            }
        }
    }

    @Test
    void concurrentSendersNeverInterleaveFrames() throws Exception {
        RawWebSocket raw = RawWebSocket.open(server.port());
        IncomingConnection connection = opened.poll(5, TimeUnit.SECONDS);
        String big = "y".repeat(20_000);
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 20; i++) {
                executor.submit(() -> {
                    connection.send(big);
                    return null;
                });
            }
        }
        for (int i = 0; i < 20; i++) {
            RawWebSocket.Frame frame = raw.readFrame();
            assertEquals(0x1, frame.opcode());
            assertEquals(big, frame.text());
        }
    }

    // --- the opening handshake, byte by byte ------------------------------------------------

    @Test
    void answersTheRfcSampleKeyWithTheRfcAcceptValue() throws Exception {
        assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketHandshake.acceptFor(RawWebSocket.RFC_SAMPLE_KEY));
        try (RawWebSocket raw = new RawWebSocket(server.port())) {
            raw.writeAscii("GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
                    + "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    + "Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n\r\n");
            assertEquals("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", raw.readHead());
        }
    }

    @Test
    void aWrongVersionGets426NamingVersion13() throws Exception {
        String response = handshakeResponse("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + RawWebSocket.RFC_SAMPLE_KEY + "\r\nSec-WebSocket-Version: 8\r\n");
        assertTrue(response.startsWith("HTTP/1.1 426 Upgrade Required\r\n"), response);
        assertTrue(response.contains("\r\nSec-WebSocket-Version: 13\r\n"), response);
    }

    @Test
    void badUpgradeRequestsGet400WithAReason() throws Exception {
        String noKey = handshakeResponse("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n");
        assertTrue(noKey.startsWith("HTTP/1.1 400 Bad Request\r\n") && noKey.contains("Sec-WebSocket-Key must be 16 bytes"), noKey);
        String shortKey = handshakeResponse("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: c2hvcnQ=\r\n");
        assertTrue(shortKey.startsWith("HTTP/1.1 400 ") && shortKey.contains("got 'c2hvcnQ='"), shortKey);
        String noConnection = handshakeResponse("Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: " + RawWebSocket.RFC_SAMPLE_KEY + "\r\n");
        assertTrue(noConnection.startsWith("HTTP/1.1 400 ") && noConnection.contains("Connection header"), noConnection);
        String plainGet = handshakeResponse("Accept: text/html\r\n");
        assertTrue(plainGet.startsWith("HTTP/1.1 400 ") && plainGet.contains("expected a GET with 'Upgrade: websocket'"), plainGet);
    }

    @Test
    void otherMethodsGet405() throws Exception {
        try (RawWebSocket raw = new RawWebSocket(server.port())) {
            raw.writeAscii("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
            String response = raw.readResponse();
            assertTrue(response.startsWith("HTTP/1.1 405 Method Not Allowed\r\n") && response.contains("Allow: GET"), response);
        }
    }

    @Test
    void anOversizedHeaderSectionGets431() throws Exception {
        String response = handshakeResponse("X-Padding: " + "a".repeat(10_000) + "\r\n");
        assertTrue(response.startsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"), response);
    }

    @Test
    void aSlowlorisIsDroppedWhileAnotherClientIsServed() throws Exception {
        try (RawWebSocket slow = new RawWebSocket(server.port())) {
            slow.writeAscii("GET / HTTP/1.1\r\n");
            long started = System.nanoTime();
            JdkClient client = JdkClient.connect(server.port());
            client.send("not delayed");
            assertEquals("not delayed", client.take());
            for (int i = 0; i < 20 && !slow.socket.isClosed(); i++) {
                try {
                    slow.writeAscii("X");   // a byte now and then does not buy more time
                } catch (java.io.IOException closed) {
                    break;
                }
                Thread.sleep(50);
            }
            assertTrue(slow.closedByServer(), "the slow client should have been dropped");
            long ms = (System.nanoTime() - started) / 1_000_000;
            assertTrue(ms < 3_000, "dropped only after " + ms + " ms");
        }
    }

    // --- frames the RFC says must fail the connection ---------------------------------------

    @Test
    void anUnmaskedClientFrameCloses1002() throws Exception {
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0x81, false, bytes("hi"))));
        assertEquals("client frames must be masked", errors.poll(5, TimeUnit.SECONDS).getMessage());
        assertEquals(new Closed(1002, "client frames must be masked"), closes.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void reservedBitsClose1002() throws Exception {
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0xC1, true, bytes("hi"))));
    }

    @Test
    void aReservedOpcodeCloses1002() throws Exception {
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0x83, true, bytes("hi"))));
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0x8B, true, bytes("hi"))));
    }

    @Test
    void aFragmentedOrOversizedControlFrameCloses1002() throws Exception {
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0x09, true, bytes("ping"))));
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0x89, true, new byte[126])));
    }

    @Test
    void aContinuationWithoutAStartCloses1002() throws Exception {
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0x80, true, bytes("orphan"))));
    }

    @Test
    void aNewMessageInsideAFragmentedOneCloses1002() throws Exception {
        assertEquals(1002, closeCodeAfter(raw -> {
            raw.sendFrame(0x01, true, bytes("start"));
            raw.sendFrame(0x81, true, bytes("another start"));
        }));
    }

    @Test
    void aControlFrameBetweenFragmentsIsAnsweredAndTheMessageStillArrives() throws Exception {
        try (RawWebSocket raw = RawWebSocket.open(server.port())) {
            raw.sendFrame(0x01, true, bytes("one "));
            raw.sendFrame(0x89, true, bytes("are you there"));
            raw.sendFrame(0x00, true, bytes("two "));
            raw.sendFrame(0x80, true, bytes("three"));
            RawWebSocket.Frame pong = raw.readFrame();
            assertEquals(0xA, pong.opcode());
            assertEquals("are you there", pong.text());
            assertEquals("one two three", raw.readFrame().text());
        }
    }

    @Test
    void aMessageOverTheLimitCloses1009() throws Exception {
        assertEquals(1009, closeCodeAfter(raw -> raw.sendFrame(0x81, true, new byte[70_000])));
        assertEquals(1009, closeCodeAfter(raw -> {   // the limit is on the whole message, not the frame
            raw.sendFrame(0x01, true, new byte[40_000]);
            raw.sendFrame(0x80, true, new byte[40_000]);
        }));
    }

    @Test
    void aDeclaredLengthOfTwoToTheFortyIsRefusedWithoutAllocating() throws Exception {
        long before = usedHeap();
        assertEquals(1009, closeCodeAfter(raw -> raw.sendFrame(0x82, true, new byte[8], 1L << 40)));
        assertTrue(usedHeap() - before < 256L << 20, "heap grew by " + ((usedHeap() - before) >> 20) + " MiB");
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0x82, true, new byte[8], -1L)));   // top bit set
    }

    @Test
    void invalidUtf8Closes1007() throws Exception {
        assertEquals(1007, closeCodeAfter(raw -> raw.sendFrame(0x81, true, new byte[] {'a', (byte) 0xC0, (byte) 0x80})));
        // a text message may split a character across fragments: only the whole must be valid
        try (RawWebSocket raw = RawWebSocket.open(server.port())) {
            byte[] check = "✓".getBytes(StandardCharsets.UTF_8);
            raw.sendFrame(0x01, true, new byte[] {check[0]});
            raw.sendFrame(0x80, true, new byte[] {check[1], check[2]});
            assertEquals("✓", raw.readFrame().text());
        }
    }

    @Test
    void badCloseFramesClose1002Or1007() throws Exception {
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0x88, true, new byte[] {3})));              // 1 byte
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0x88, true, new byte[] {0x03, (byte) 0xED})));  // 1005
        assertEquals(1002, closeCodeAfter(raw -> raw.sendFrame(0x88, true, new byte[] {0x03, (byte) 0xE7})));  // 999
        assertEquals(1007, closeCodeAfter(raw -> raw.sendFrame(0x88, true, new byte[] {0x03, (byte) 0xE8, (byte) 0xFF})));
    }

    @Test
    void anEmptyCloseIsAnsweredWithAnEmptyClose() throws Exception {
        try (RawWebSocket raw = RawWebSocket.open(server.port())) {
            raw.sendFrame(0x88, true, new byte[0]);
            RawWebSocket.Frame close = raw.readFrame();
            assertEquals(0x8, close.opcode());
            assertEquals(0, close.payload().length);
            assertTrue(raw.closedByServer());
        }
        assertEquals(new Closed(1005, ""), closes.poll(5, TimeUnit.SECONDS));
    }

    @Test
    void aPeerThatVanishesIsReportedAs1006Promptly() throws Exception {
        RawWebSocket raw = RawWebSocket.open(server.port());
        opened.poll(5, TimeUnit.SECONDS);
        raw.socket.setSoLinger(true, 0);
        raw.close();   // RST, no close frame: as a killed process
        Closed closed = closes.poll(2, TimeUnit.SECONDS);
        assertEquals(1006, closed.code());
    }

    @Test
    void afterEveryBadClientTheServerStillWorks() throws Exception {
        aReservedOpcodeCloses1002();
        invalidUtf8Closes1007();
        JdkClient client = JdkClient.connect(server.port());
        client.send("still here");
        assertEquals("still here", client.take());
    }

    // --- helpers -----------------------------------------------------------------------------

    interface RawAction {
        void run(RawWebSocket raw) throws Exception;
    }

    private int closeCodeAfter(RawAction action) throws Exception {
        try (RawWebSocket raw = RawWebSocket.open(server.port())) {
            action.run(raw);
            int code = raw.awaitCloseCode();
            assertTrue(raw.closedByServer(), "the server should close TCP after its close frame");
            return code;
        }
    }

    private String handshakeResponse(String headers) throws Exception {
        try (RawWebSocket raw = new RawWebSocket(server.port())) {
            raw.writeAscii("GET / HTTP/1.1\r\nHost: localhost\r\n" + headers + "\r\n");
            return raw.readResponse();
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static long usedHeap() {
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
