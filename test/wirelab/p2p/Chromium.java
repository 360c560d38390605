package wirelab.p2p;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.websocket.JdkClient;

/**
 * A real headless Chromium for the tests, driven over the DevTools protocol (a WebSocket, spoken
 * with the JDK's client): open a page, evaluate JavaScript in it, wait for a condition, take a
 * screenshot. Closing it ends Chromium and every process it started, so a page that never goes
 * idle (this one streams events) cannot hold a test.
 */
final class Chromium implements AutoCloseable {

    static final Path BINARY = Path.of("/usr/bin/chromium");

    private final Process process;
    private final DevTools page;

    private Chromium(Process process, DevTools page) {
        this.process = process;
        this.page = page;
    }

    /** Starts Chromium with a fresh profile under {@code dir}; skips the test, with why, when there is none. */
    static Chromium launch(Path dir) throws Exception {
        assumeTrue(Files.isExecutable(BINARY), "Chromium is not installed at " + BINARY
                + " (apt-get install chromium); the browser test needs it");
        Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
        Process process = new ProcessBuilder(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=900,700", "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank")
                .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
        try {
            Path portFile = profile.resolve("DevToolsActivePort");   // Chromium writes the port it chose here
            for (int i = 0; i < 200 && (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()); i++) {
                Thread.sleep(100);
            }
            int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
            String pages = JdkClient.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list"))
                    .timeout(java.time.Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
            for (var page : JsonParser.parseString(pages).getAsJsonArray()) {
                if (page.getAsJsonObject().get("type").getAsString().equals("page")) {
                    DevTools devTools = new DevTools(page.getAsJsonObject().get("webSocketDebuggerUrl").getAsString());
                    devTools.call("Page.enable", new JsonObject());
                    return new Chromium(process, devTools);
                }
            }
            throw new AssertionError("Chromium lists no page: " + pages);
        } catch (Exception | AssertionError e) {
            stop(process);
            throw e;
        }
    }

    void open(String url) throws Exception {
        JsonObject navigate = new JsonObject();
        navigate.addProperty("url", url);
        page.call("Page.navigate", navigate);
    }

    String evaluate(String expression) throws Exception {
        return page.evaluate(expression);
    }

    /** Polls a JavaScript condition in the page until it holds, for 10 s at most. */
    void awaitTrue(String condition) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (page.evaluate("String(" + condition + ")").equals("true")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("within 10 s, the page never showed: " + condition);
    }

    byte[] screenshot() throws Exception {
        return Base64.getDecoder().decode(page.call("Page.captureScreenshot", new JsonObject()).get("data").getAsString());
    }

    @Override
    public void close() {
        stop(process);
    }

    private static void stop(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** Just enough of the Chrome DevTools protocol: numbered calls, each answered by id. */
    private static final class DevTools implements WebSocket.Listener {
        private final WebSocket socket;
        private final AtomicInteger nextId = new AtomicInteger();
        private final Map<Integer, CompletableFuture<JsonObject>> pending = new ConcurrentHashMap<>();
        private final StringBuilder partial = new StringBuilder();

        DevTools(String url) throws Exception {
            socket = JdkClient.HTTP.newWebSocketBuilder().buildAsync(URI.create(url), this).get(10, TimeUnit.SECONDS);
        }

        JsonObject call(String method, JsonObject params) throws Exception {
            int id = nextId.incrementAndGet();
            CompletableFuture<JsonObject> answer = new CompletableFuture<>();
            pending.put(id, answer);
            JsonObject message = new JsonObject();
            message.addProperty("id", id);
            message.addProperty("method", method);
            message.add("params", params);
            socket.sendText(message.toString(), true).get(10, TimeUnit.SECONDS);
            JsonObject response = answer.get(20, TimeUnit.SECONDS);
            if (response.has("error")) {
                throw new AssertionError(method + " failed: " + response.get("error"));
            }
            return response.getAsJsonObject("result");
        }

        String evaluate(String expression) throws Exception {
            JsonObject params = new JsonObject();
            params.addProperty("expression", expression);
            params.addProperty("returnByValue", true);
            params.addProperty("awaitPromise", true);
            JsonObject result = call("Runtime.evaluate", params).getAsJsonObject("result");
            return result.has("value") ? result.get("value").getAsString() : "";
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                JsonObject message = JsonParser.parseString(partial.toString()).getAsJsonObject();
                partial.setLength(0);
                if (message.has("id")) {
                    CompletableFuture<JsonObject> answer = pending.remove(message.get("id").getAsInt());
                    if (answer != null) {
                        answer.complete(message);
                    }
                }
            }
            webSocket.request(1);
            return null;
        }
    }
}
