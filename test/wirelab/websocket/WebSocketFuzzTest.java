package wirelab.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded random and mutated frames against the WebSocket server: every connection must end
 * with an RFC 6455 close code or a clean TCP close, memory must stay bounded, and the server
 * must go on accepting.
 */
@Timeout(90)
class WebSocketFuzzTest {

    /** Codes our server may send when it fails a connection, plus 1000/1001 for clean ends. */
    static final Set<Integer> RFC_CLOSE_CODES = Set.of(1000, 1001, 1002, 1007, 1009);
    static final int NO_CLOSE_FRAME = -1;

    private WebSocketServer server;

    @BeforeEach
    void startEchoServer() throws IOException {
        server = WebSocketServer.start(WebSocketServer.Options.onPort(0).withMaxMessageBytes(64 * 1024),
                (connection, text) -> {
                    try {
                        connection.send(text);
                    } catch (IOException e) {
                        // the fuzzing client may be gone already
                    }
                });
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    @Test
    void randomAndMutatedFramesEndCleanlyAndTheServerKeepsAccepting() throws Exception {
        Runtime runtime = Runtime.getRuntime();
        long heapBefore = runtime.totalMemory() - runtime.freeMemory();
        List<Future<String>> endings = new ArrayList<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 400; i++) {
                long seed = 7_000 + i;
                endings.add(clients.submit(() -> fuzzOneConnection(new Random(seed))));
            }
        }
        Set<String> seen = ConcurrentHashMap.newKeySet();
        for (Future<String> ending : endings) {
            String result = ending.get();
            assertTrue(result.startsWith("ok"), result);
            seen.add(result);
        }
        long heapAfter = runtime.totalMemory() - runtime.freeMemory();
        assertTrue(heapAfter - heapBefore < 512L << 20, "heap grew by " + ((heapAfter - heapBefore) >> 20) + " MiB");
        // the fuzz reached more than one kind of ending
        assertTrue(seen.size() >= 3, "endings seen: " + seen);

        JdkClient client = JdkClient.connect(server.port());
        client.send("after the storm");
        assertEquals("after the storm", client.take());
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (server.connections().size() > 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, server.connections().size(), "every fuzzed connection should be gone");
    }

    /** Opens a connection, sends a seeded mix of frames, and reports how it ended. */
    private String fuzzOneConnection(Random random) throws IOException {
        try (RawWebSocket raw = RawWebSocket.open(server.port())) {
            int frames = 1 + random.nextInt(6);
            for (int i = 0; i < frames; i++) {
                sendRandomFrame(raw, random);
            }
            raw.socket.shutdownOutput();   // no more from us: a truncated frame ends here
            return "ok " + ending(raw);
        } catch (SocketException e) {
            return "ok reset while sending";   // the server already failed the connection and closed
        }
    }

    private static void sendRandomFrame(RawWebSocket raw, Random random) throws IOException {
        byte[] payload = new byte[random.nextInt(200)];
        random.nextBytes(payload);
        switch (random.nextInt(11)) {
            case 0 -> raw.sendText("hello " + random.nextInt());                                       // valid
            case 1 -> raw.sendFrame(random.nextInt(256), random.nextBoolean(), payload);               // any first byte
            case 2 -> raw.sendFrame(0x81, false, "unmasked".getBytes(StandardCharsets.UTF_8));         // no mask
            case 3 -> raw.sendFrame(0x82, true, new byte[4], random.nextLong());                        // lying 64-bit length
            case 4 -> raw.sendFrame(0x82, true, new byte[10], 100);                                     // truncated
            case 5 -> raw.sendFrame(0x81, true, new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80});    // a UTF-16 surrogate
            case 6 -> raw.sendFrame(0x00, true, payload);                                               // continuation first
            case 7 -> {                                                                                 // fragments out of order
                raw.sendFrame(0x01, true, "a".getBytes(StandardCharsets.UTF_8));
                raw.sendFrame(0x01, true, "b".getBytes(StandardCharsets.UTF_8));
            }
            case 8 -> {                                                                                 // a ping flood
                for (int i = 0; i < 200; i++) {
                    raw.sendFrame(0x89, true, new byte[] {(byte) i});
                }
            }
            case 9 -> raw.out.write(payload);                                                           // raw noise
            default -> raw.sendFrame(0x88, true, new byte[] {(byte) random.nextInt(256), (byte) random.nextInt(256)});
        }
    }

    /** Reads until the server ends the connection: its close code, or a clean TCP close. */
    private static String ending(RawWebSocket raw) throws IOException {
        try {
            while (true) {
                RawWebSocket.Frame frame = raw.readFrame();
                if (frame.opcode() == 0x8) {
                    int code = frame.payload().length == 0 ? 1005 : frame.closeCode();
                    if (code != 1005 && !RFC_CLOSE_CODES.contains(code)) {
                        return "BAD close code " + code;
                    }
                    return raw.closedByServer() ? "close " + code : "BAD: no TCP close after close " + code;
                }
            }
        } catch (EOFException | SocketException e) {
            return "tcp close";
        } catch (SocketTimeoutException e) {
            return "BAD: the server neither answered nor closed within 10 s";
        }
    }

    @Test
    void fiveHundredHalfOpenHandshakesDoNotStopANormalClient() throws Exception {
        List<RawWebSocket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 500; i++) {
                RawWebSocket raw = new RawWebSocket(server.port());
                raw.writeAscii("GET / HTTP/1.1\r\nHost: localhost\r\n");   // and never the blank line
                slow.add(raw);
            }
            long started = System.nanoTime();
            JdkClient client = JdkClient.connect(server.port());
            client.send("through the crowd");
            assertEquals("through the crowd", client.take());
            long ms = (System.nanoTime() - started) / 1_000_000;
            assertTrue(ms < 2_000, "the normal client waited " + ms + " ms");
        } finally {
            for (RawWebSocket raw : slow) {
                raw.close();
            }
        }
    }
}
