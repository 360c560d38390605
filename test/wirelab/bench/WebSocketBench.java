package wirelab.bench;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import wirelab.websocket.WebSocketServer;

/** The WebSocket server's figures: echoed messages per second, and full handshakes per second. */
final class WebSocketBench {

    private WebSocketBench() {
    }

    static final int CONNECTIONS = 100;
    static final int MESSAGES_EACH = 2_000;

    static void run() throws Exception {
        System.out.println("websocket");
        // HttpClient.close() waits for every WebSocket it opened to finish closing, so a failed run
        // would hang there; shutdownNow() does not wait.
        HttpClient client = HttpClient.newHttpClient();
        try (WebSocketServer server = WebSocketServer.start(WebSocketServer.Options.onPort(0), (connection, text) -> {
            try {
                connection.send(text);
            } catch (IOException e) {
                // the client left
            }
        })) {
            echoOnce(server.port(), client);   // warm-up
            double[] perSecond = new double[Bench.REPEATS];
            for (int i = 0; i < Bench.REPEATS; i++) {
                perSecond[i] = echoOnce(server.port(), client);
            }
            Bench.record(CONNECTIONS + " connections echoing small messages", "msg/s", perSecond);
            handshakesPerSecond(server.port());   // warm-up
            double[] handshakes = new double[Bench.REPEATS];
            for (int i = 0; i < Bench.REPEATS; i++) {
                handshakes[i] = handshakesPerSecond(server.port());
            }
            Bench.record("new connections (full opening handshake)", "conn/s", handshakes);
        } finally {
            client.shutdownNow();
        }
        nodeMemory();
    }

    /**
     * A node process started as scripts/run-node.sh starts it, alone and then holding 1,000 idle
     * WebSocket connections: its resident memory, from /proc.
     */
    private static void nodeMemory() throws Exception {
        java.nio.file.Path folder = java.nio.file.Files.createTempDirectory("bench-node");
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        java.nio.file.Files.writeString(folder.resolve(".env"), "PORT=" + port + "\nMAX_CONNECTIONS=2000\n"
                + "MAX_CONNECTIONS_PER_SOURCE=2000\n");   // all from loopback: the memory is measured, not the cap per source
        Process node = new ProcessBuilder("scripts/run-node.sh", folder.toString()).redirectErrorStream(true)
                .redirectOutput(folder.resolve("node.log").toFile()).start();
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < 600 && !handshake(port, held); i++) {
                Thread.sleep(50);   // until the node listens
            }
            Thread.sleep(500);
            double alone = ExchangeBench.procStatusKb(node.pid(), "VmRSS") / 1024.0;
            for (int i = held.size(); i < 1_000; i++) {
                Bench.check(handshake(port, held), "connection " + i + " to the node opened");
            }
            Thread.sleep(500);
            double busy = ExchangeBench.procStatusKb(node.pid(), "VmRSS") / 1024.0;
            Bench.record("a node process alone: resident memory", "MB", new double[] {alone});
            Bench.record("  the same node holding 1,000 idle WebSocket connections", "MB", new double[] {busy});
        } finally {
            for (Socket socket : held) {
                socket.close();
            }
            node.destroy();
            node.waitFor();
        }
    }

    /** Opens one WebSocket (a raw opening handshake) and keeps its socket; false if the node is not up yet. */
    private static boolean handshake(int port, List<Socket> held) {
        try {
            Socket socket = new Socket("127.0.0.1", port);
            socket.getOutputStream().write(("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] head = new byte[12];
            socket.getInputStream().readNBytes(head, 0, 12);
            if (!new String(head, StandardCharsets.US_ASCII).equals("HTTP/1.1 101")) {
                socket.close();
                return false;
            }
            held.add(socket);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Every connection sends its messages as fast as the JDK client lets it; returns echoes per second. */
    private static double echoOnce(int port, HttpClient client) throws Exception {
        CountDownLatch allEchoed = new CountDownLatch(CONNECTIONS * MESSAGES_EACH);
        AtomicInteger wrong = new AtomicInteger();
        List<WebSocket> sockets = new ArrayList<>();
        for (int i = 0; i < CONNECTIONS; i++) {
            sockets.add(client.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + port + "/"),
                    new WebSocket.Listener() {
                        private final StringBuilder partial = new StringBuilder();   // the client may hand a message over in parts

                        @Override
                        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                            partial.append(data);
                            if (last) {
                                if (!partial.toString().startsWith("message ")) {
                                    wrong.incrementAndGet();
                                }
                                partial.setLength(0);
                                allEchoed.countDown();
                            }
                            socket.request(1);
                            return null;
                        }
                    }).get(10, TimeUnit.SECONDS));
        }
        long started = System.nanoTime();
        try (ExecutorService senders = Executors.newVirtualThreadPerTaskExecutor()) {
            for (WebSocket socket : sockets) {
                senders.submit(() -> {
                    for (int m = 0; m < MESSAGES_EACH; m++) {
                        socket.sendText("message " + m, true).get(10, TimeUnit.SECONDS);
                    }
                    return null;
                });
            }
        }
        Bench.check(allEchoed.await(60, TimeUnit.SECONDS), "every message echoed, " + allEchoed.getCount() + " missing");
        double seconds = (System.nanoTime() - started) / 1e9;
        Bench.check(wrong.get() == 0, wrong.get() + " wrong echoes");
        for (WebSocket socket : sockets) {
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
        }
        return CONNECTIONS * MESSAGES_EACH / seconds;
    }

    /** 2,000 raw opening handshakes from 8 threads; each checks its Sec-WebSocket-Accept. */
    private static double handshakesPerSecond(int port) throws Exception {
        int total = 2_000;
        String request = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        long started = System.nanoTime();
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < 8; t++) {
                threads.submit(() -> {
                    byte[] response = new byte[129];
                    for (int i = 0; i < total / 8; i++) {
                        try (Socket socket = new Socket("127.0.0.1", port)) {
                            socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                            int n = socket.getInputStream().readNBytes(response, 0, response.length);
                            String head = new String(response, 0, n, StandardCharsets.US_ASCII);
                            Bench.check(head.startsWith("HTTP/1.1 101") && head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), head);
                            socket.getOutputStream().write(new byte[] {(byte) 0x88, (byte) 0x80, 1, 2, 3, 4});   // close
                        }
                    }
                    return null;
                });
            }
        }
        return total / ((System.nanoTime() - started) / 1e9);
    }
}
