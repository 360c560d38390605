package wirelab.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What a server on a user's machine must refuse or bound: foreign origins, floods, peers that never close or go silent. */
@Timeout(30)
class WebSocketLimitsTest {

    record Closed(IncomingConnection connection, int code, String reason, long atNanos) {
    }

    private WebSocketServer server;
    private final BlockingQueue<IncomingConnection> opened = new LinkedBlockingQueue<>();
    private final BlockingQueue<Closed> closes = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> texts = new LinkedBlockingQueue<>();

    private final WebSocketServer.Listener recorder = new WebSocketServer.Listener() {
        @Override
        public void onOpen(IncomingConnection connection) {
            opened.add(connection);
        }

        @Override
        public void onText(IncomingConnection connection, String text) {
            texts.add(text);
        }

        @Override
        public void onClose(IncomingConnection connection, int code, String reason) {
            closes.add(new Closed(connection, code, reason, System.nanoTime()));
        }
    };

    private WebSocketServer start(WebSocketServer.Options options) throws IOException {
        server = WebSocketServer.start(options, recorder);
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.abort();
        }
    }

    @Test
    void aHandshakeFromARefusedOriginGets403AndNoConnectionOpens() throws Exception {
        start(WebSocketServer.Options.onPort(0).withOriginAllowed(origin -> origin.equals("http://localhost:4001")));
        try (RawWebSocket raw = new RawWebSocket(server.port())) {
            String response = raw.handshake("Origin: https://evil.example\r\n");
            assertTrue(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), response);
            assertTrue(raw.readResponse().contains("Origin https://evil.example may not open a WebSocket here"));
        }
        try (RawWebSocket raw = new RawWebSocket(server.port())) {
            assertTrue(raw.handshake("Origin: http://localhost:4001\r\n").startsWith("HTTP/1.1 101 "));
        }
        try (RawWebSocket raw = new RawWebSocket(server.port())) {
            assertTrue(raw.handshake("").startsWith("HTTP/1.1 101 "), "no Origin: not a browser, not asked about");
        }
        assertEquals(2, drain(opened, 2));
    }

    @Test
    void beyondMaxConnectionsANewHandshakeGets503AndIsServedOnceOneLeaves() throws Exception {
        start(WebSocketServer.Options.onPort(0).withMaxConnections(2));
        RawWebSocket first = RawWebSocket.open(server.port());
        try (RawWebSocket second = RawWebSocket.open(server.port()); RawWebSocket third = new RawWebSocket(server.port())) {
            second.sendText("the second is open");
            String response = third.handshake("");
            assertTrue(response.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), response);
        }
        first.close();
        closes.poll(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.connections().size() > 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        try (RawWebSocket again = RawWebSocket.open(server.port())) {
            again.sendText("served");
        }
    }

    @Test
    void oneSourceSendingBadRequestsFillsTheLogOnlyToItsQuota() throws Exception {
        start(WebSocketServer.Options.onPort(0));
        try (wirelab.LogCapture log = new wirelab.LogCapture("websocket-server")) {
            int requests = 3_000;
            long started = System.nanoTime();
            for (int i = 0; i < requests; i++) {
                try (RawWebSocket raw = new RawWebSocket(server.port())) {
                    raw.writeAscii("POST / HTTP/1.1\r\nHost: localhost\r\n\r\n");   // each gets 405, and a log line
                    assertTrue(raw.readResponse().startsWith("HTTP/1.1 405 "));
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            Thread.sleep(100);   // a few lines' worth refills
            try (RawWebSocket raw = new RawWebSocket(server.port())) {
                raw.writeAscii("POST / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                raw.readResponse();
            }
            long allowed = wirelab.LogQuota.BURST + (long) Math.ceil(wirelab.LogQuota.PER_SECOND * (seconds + 1));
            java.util.List<String> lines = log.lines();
            long logged = lines.stream().filter(line -> line.contains("HTTP 405")).count();
            assertTrue(logged <= allowed && logged < requests, logged + " lines for " + requests + " refusals in "
                    + seconds + " s; the quota allows " + allowed);
            assertTrue(lines.stream().anyMatch(line -> line.startsWith("suppressed ") && line.contains("127.0.0.1")),
                    "one line says how many were suppressed");
        }
    }

    @Test
    void aPeerThatIgnoresOurCloseFrameIsDroppedAtTheDeadline() throws Exception {
        start(WebSocketServer.Options.onPort(0).withCloseTimeoutMs(300));
        try (RawWebSocket raw = RawWebSocket.open(server.port())) {
            IncomingConnection connection = opened.poll(5, TimeUnit.SECONDS);
            long started = System.nanoTime();
            connection.close(4000, "bye");   // the raw client reads on, but never answers
            Closed closed = closes.poll(5, TimeUnit.SECONDS);
            long ms = (closed.atNanos() - started) / 1_000_000;
            assertEquals(4000, closed.code());
            assertTrue(ms >= 250 && ms < 2_000, "dropped after " + ms + " ms");
            assertEquals(4000, raw.awaitCloseCode(), "our close frame was sent first");
            assertTrue(raw.closedByServer());
        }
    }

    @Test
    void closingTheServerWaitsForTheEchoSoTheListenerSeesTheCodeItSent() throws Exception {
        start(WebSocketServer.Options.onPort(0));
        JdkClient client = JdkClient.connect(server.port());
        opened.poll(5, TimeUnit.SECONDS);
        server.close();
        Closed closed = closes.poll(5, TimeUnit.SECONDS);
        assertEquals(1001, closed.code(), "the listener heard " + closed);
        assertEquals(1001, client.awaitClose().code());
    }

    @Test
    void noDataFrameFollowsOurCloseFrameAndALongReasonIsCutOnACharacterBoundary() throws Exception {
        start(WebSocketServer.Options.onPort(0).withCloseTimeoutMs(1_000));
        try (RawWebSocket raw = RawWebSocket.open(server.port())) {
            IncomingConnection connection = opened.poll(5, TimeUnit.SECONDS);
            Thread sender = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < 10_000; i++) {
                    try {
                        connection.send("data " + i);
                    } catch (IOException e) {
                        return;   // closing: refused, as it must be
                    }
                }
            });
            Thread.sleep(5);
            connection.close(1000, "é".repeat(100));   // 200 bytes of UTF-8
            sender.join();
            RawWebSocket.Frame frame;
            do {
                frame = raw.readFrame();
            } while (frame.opcode() == 0x1);
            assertEquals(0x8, frame.opcode(), "only text, then the close frame");
            assertEquals(2 + 122, frame.payload().length, "61 whole characters: 122 bytes, not 123");
            assertEquals("é".repeat(61), new String(frame.payload(), 2, 122, StandardCharsets.UTF_8));
            assertThrows(IOException.class, () -> connection.send("after the close"));
            assertTrue(raw.closedByServer() || raw.awaitCloseCode() == -1, "nothing after the close frame");
        }
    }

    @Test
    void aPeerThatGoesSilentIsPingedAndDroppedWhileOneThatAnswersStays() throws Exception {
        start(WebSocketServer.Options.onPort(0).withPingIntervalMs(200));
        JdkClient answers = JdkClient.connect(server.port());   // the JDK client answers pings by itself
        try (RawWebSocket silent = RawWebSocket.open(server.port())) {
            assertEquals(0x9, silent.readFrame().opcode(), "pinged after 200 ms of silence");
            Closed closed = closes.poll(5, TimeUnit.SECONDS);
            assertEquals(1006, closed.code());
            assertTrue(closed.reason().contains("no answer to ping"), closed.reason());
            assertTrue(silent.closedByServer());
        }
        Thread.sleep(600);
        assertEquals(null, closes.poll(), "the client that answers pings is still connected");
        answers.send("still here");
    }

    private static int drain(BlockingQueue<?> queue, int expected) throws InterruptedException {
        int n = 0;
        while (n < expected && queue.poll(5, TimeUnit.SECONDS) != null) {
            n++;
        }
        return n;
    }

    /** The server's user failing is a failure of the server: a plain GET gets 500, a message 1011, and the server goes on. */
    @Test
    void aHandlerThatFailsIsAnswered500Or1011AndTheServerGoesOn() throws Exception {
        server = WebSocketServer.start(WebSocketServer.Options.onPort(0), new WebSocketServer.Listener() {
            @Override
            public void onText(IncomingConnection connection, String text) {
                if (text.equals("fail")) {
                    throw new IllegalStateException("a bug in the listener");
                }
            }
        }, request -> {
            throw new IllegalStateException("a bug in the page");
        });
        try (RawWebSocket get = new RawWebSocket(server.port())) {
            get.writeAscii("GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n");
            String answer = get.readResponse();
            assertTrue(answer.startsWith("HTTP/1.1 500 Internal Server Error\r\n"), answer);
        }
        try (RawWebSocket client = RawWebSocket.open(server.port())) {
            client.sendText("fail");
            assertEquals(1011, client.awaitCloseCode());
        }
        try (RawWebSocket client = RawWebSocket.open(server.port())) {
            client.sendText("fine");
            client.sendText("fail");
            assertEquals(1011, client.awaitCloseCode(), "the server still serves, and fails each bad message alone");
        }
    }

    /**
     * Memory for messages still arriving is one budget for the server, a quarter of it for one
     * address: half-sent large messages past it are closed with 1013 (try again later), while a
     * small message from the same address still goes through.
     */
    @Test
    void halfSentMessagesPastTheBudgetAreClosedWith1013() throws Exception {
        start(WebSocketServer.Options.onPort(0).withUnfinishedMessageBytes(8 << 20));   // 2 MiB for one address
        java.util.List<RawWebSocket> senders = new java.util.ArrayList<>();
        try {
            byte[] half = new byte[300 * 1024];
            int refused = 0;
            for (int i = 0; i < 12; i++) {
                RawWebSocket sender = RawWebSocket.open(server.port());
                senders.add(sender);
                sender.sendFrame(0x81, true, half, 1 << 20);
            }
            for (RawWebSocket sender : senders) {
                sender.socket.setSoTimeout(300);
                try {
                    refused += sender.awaitCloseCode() == 1013 ? 1 : 0;
                } catch (java.net.SocketTimeoutException e) {
                    // held, within the budget
                }
            }
            assertTrue(refused >= 6, refused + " of 12 closed with 1013; each holds about 512 KiB of a 2 MiB share");
            try (RawWebSocket small = RawWebSocket.open(server.port())) {
                small.sendText("{\"a\":\"small message\"}");
                assertEquals("{\"a\":\"small message\"}", texts.poll(5, TimeUnit.SECONDS), "a small message is not held up");
            }
        } finally {
            for (RawWebSocket sender : senders) {
                sender.close();
            }
        }
    }
}
