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
