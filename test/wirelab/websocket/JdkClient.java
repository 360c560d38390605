package wirelab.websocket;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The JDK's own WebSocket client, as an independent real client for tests: it queues every
 * whole text message, pong and close it receives, for the test to take with a timeout.
 */
public final class JdkClient implements WebSocket.Listener {

    public static final HttpClient HTTP = HttpClient.newHttpClient();

    public record Closed(int code, String reason) {
    }

    final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    final BlockingQueue<ByteBuffer> pongs = new LinkedBlockingQueue<>();
    final CompletableFuture<Closed> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    public WebSocket webSocket;

    public static JdkClient connect(String uri) throws Exception {
        JdkClient client = new JdkClient();
        client.webSocket = HTTP.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create(uri), client).get(10, TimeUnit.SECONDS);
        return client;
    }

    public static JdkClient connect(int port) throws Exception {
        return connect("ws://127.0.0.1:" + port + "/");
    }

    public String take() throws InterruptedException {
        String message = messages.poll(10, TimeUnit.SECONDS);
        if (message == null) {
            throw new AssertionError("no message within 10 s");
        }
        return message;
    }

    /** The next message if one has come, else null at once. */
    public String poll() {
        return messages.poll();
    }

    public void send(String text) throws Exception {
        webSocket.sendText(text, true).get(10, TimeUnit.SECONDS);
    }

    public Closed awaitClose() throws Exception {
        return closed.get(10, TimeUnit.SECONDS);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            messages.add(partial.toString());
            partial.setLength(0);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
        ByteBuffer copy = ByteBuffer.allocate(message.remaining()).put(message).flip();
        pongs.add(copy);
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(new Closed(statusCode, reason));
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.complete(new Closed(-1, error.toString()));
    }
}
