package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static wirelab.p2p.PeerNodeTest.freePort;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wirelab.websocket.HttpResponse;
import wirelab.websocket.RawWebSocket;

/** GET /events: the node's messages as Server-Sent Events, bounded so no viewer can slow gossip. */
@Timeout(30)
class NodeEventsTest {

    @TempDir
    Path dir;

    @Test
    void aViewerSeesEachMessageTheNodeReceivesAndSendsAsAnEvent() throws Exception {
        try (PeerNode node = PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("n")), freePort(), List.of()));
             RawWebSocket viewer = new RawWebSocket(node.port())) {
            viewer.writeAscii("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
            String head = viewer.readHead();
            assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n") && head.contains("Content-Type: text/event-stream"), head);
            try (RawWebSocket sender = RawWebSocket.open(node.port())) {
                sender.sendText("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"watched\"}}");
                String events = readUntil(viewer, "watched");
                assertTrue(events.contains("data: {\"direction\":\"in\",\"type\":\"TRANSACTION\",\"peer\":\"incoming 127.0.0.1:"), events);
                assertTrue(events.contains("\"id\":\"\\\"watched\\\"\"}"), events);
            }
        }
    }

    @Test
    void aStalledViewerLosesEventsAndIsToldHowManyWhileGossipNeverWaits() throws Exception {
        NodeEvents events = new NodeEvents();
        HttpResponse stream = events.subscribe();
        CountDownLatch unstall = new CountDownLatch(1);
        StringBuilder written = new StringBuilder();
        Thread viewer = Thread.ofVirtual().start(() -> {
            try {
                stream.streamWriter().writeTo(new OutputStream() {   // a viewer that stops reading after the first line
                    @Override
                    public void write(int b) {
                        throw new UnsupportedOperationException();
                    }

                    @Override
                    public void write(byte[] bytes, int offset, int length) throws IOException {
                        written.append(new String(bytes, offset, length, StandardCharsets.UTF_8));
                        if (written.indexOf("dropped") >= 0) {
                            throw new IOException("the viewer left");
                        }
                        try {
                            unstall.await();
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                    }
                });
            } catch (IOException e) {
                // the viewer left, as written above
            }
        });
        long started = System.nanoTime();
        for (int i = 0; i < 1_000; i++) {
            events.publish("out", "TRANSACTION", "ws://localhost:1", "\"" + i + "\"");
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        assertTrue(ms < 500, "publishing to a stalled viewer took " + ms + " ms");
        unstall.countDown();
        viewer.join(10_000);
        assertTrue(written.toString().matches("(?s).*event: dropped\ndata: \\{\"dropped\":7\\d\\d}\n\n.*"), written.toString());
    }

    @Test
    void atMostEightViewersAndOneThatHangsUpFreesItsPlaceAtOnce() throws Exception {
        try (PeerNode node = PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("n")), freePort(), List.of()))) {
            List<RawWebSocket> viewers = new ArrayList<>();
            try {
                for (int i = 0; i < NodeEvents.MAX_VIEWERS; i++) {
                    RawWebSocket viewer = new RawWebSocket(node.port());
                    viewer.writeAscii("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
                    assertTrue(viewer.readHead().startsWith("HTTP/1.1 200 "));
                    viewers.add(viewer);
                }
                try (RawWebSocket ninth = new RawWebSocket(node.port())) {
                    ninth.writeAscii("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
                    assertTrue(ninth.readHead().startsWith("HTTP/1.1 503 "));
                }
                viewers.remove(0).close();   // hangs up, with no event on its way to notice it by
                String head = "";
                for (int attempt = 0; attempt < 10 && !head.startsWith("HTTP/1.1 200 "); attempt++) {
                    Thread.sleep(100);
                    try (RawWebSocket again = new RawWebSocket(node.port())) {
                        again.writeAscii("GET /events HTTP/1.1\r\nHost: localhost\r\n\r\n");
                        head = again.readHead();
                    }
                }
                assertEquals("HTTP/1.1 200 OK", head.lines().findFirst().orElse(""));
            } finally {
                for (RawWebSocket viewer : viewers) {
                    viewer.close();
                }
            }
        }
    }

    private static String readUntil(RawWebSocket viewer, String text) throws IOException {
        StringBuilder seen = new StringBuilder();
        byte[] buffer = new byte[4096];
        while (!seen.toString().contains(text)) {
            int n = viewer.socket.getInputStream().read(buffer);
            if (n < 0) {
                break;
            }
            seen.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
        }
        return seen.toString();
    }
}
