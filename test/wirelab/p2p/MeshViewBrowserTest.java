package wirelab.p2p;

import wirelab.websocket.JdkClient;
import wirelab.websocket.RawWebSocket;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The live view, in a real headless Chromium driven over the DevTools protocol (a WebSocket,
 * spoken here with the JDK client). Skipped, with the reason, where Chromium is not installed.
 */
@Timeout(90)
class MeshViewBrowserTest {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();
    private Process chromium;

    @AfterEach
    void stopEverything() {
        nodes.forEach(PeerNode::close);
        if (chromium != null) {
            chromium.descendants().forEach(ProcessHandle::destroyForcibly);
            chromium.destroyForcibly();
        }
    }

    @Test
    void theViewShowsThreeNodesTheirLinksAndGossipPassingThenDropsOneThatStops() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "Chromium is not installed at " + CHROMIUM
                + " (apt-get install chromium); the browser test needs it");
        for (int i = 0; i < 3; i++) {
            Path folder = Files.createDirectories(dir.resolve("node-" + i));
            List<String> known = nodes.isEmpty() ? List.of() : List.of(nodes.get(0).address());
            nodes.add(PeerNode.start(NodeConfig.of(folder, PeerNodeTest.freePort(), known)));
        }
        PeerNodeTest.awaitFullMesh(nodes);

        DevTools browser = launchChromium();
        browser.call("Page.enable", new JsonObject());
        JsonObject navigate = new JsonObject();
        navigate.addProperty("url", "http://localhost:" + nodes.get(0).port() + "/");
        browser.call("Page.navigate", navigate);

        assertEquals("3 nodes, 3 links", awaitView(browser, "3 nodes, 3 links"));
        String labels = browser.evaluate("[...document.querySelectorAll('.node')].map(n => n.dataset.address).sort().join(' ')");
        for (PeerNode node : nodes) {
            assertTrue(labels.contains(node.address()), labels);
        }
        // Every node's event stream is open, and the first node's panel with it.
        awaitTrue(browser, "[...sources.values()].filter(s => s.readyState === 1).length === 3");
        browser.evaluate("document.querySelector('.node[data-address=\"" + nodes.get(0).address()
                + "\"]').dispatchEvent(new MouseEvent('click')); 'clicked'");
        // The browser's own WebSocket client (which offers permessage-deflate; we decline it) can
        // talk to a node: a transaction sent from the page reaches every node, and the close
        // handshake ends with the code the browser chose.
        String closed = browser.evaluate("new Promise((resolve, reject) => {"
                + " const ws = new WebSocket('ws://localhost:" + nodes.get(1).port() + "/');"
                + " ws.onopen = () => { ws.send(JSON.stringify({type: 'TRANSACTION', data: {id: 'from-the-browser', from: 'browser', amount: 9}}));"
                + " ws.close(1000, 'done'); };"
                + " ws.onclose = event => resolve('closed ' + event.code + ' clean=' + event.wasClean);"
                + " ws.onerror = () => reject('websocket error'); })");
        assertEquals("closed 1000 clean=true", closed);
        // The page shows it passing from node to node: dots along the lines, from node 1 to both others
        awaitTrue(browser, "document.querySelectorAll('.dot.TRANSACTION').length > 0");
        byte[] gossip = Base64.getDecoder().decode(browser.call("Page.captureScreenshot", new JsonObject()).get("data").getAsString());
        Files.createDirectories(Path.of("build"));
        Files.write(Path.of("build/mesh-gossip.png"), gossip);
        awaitTrue(browser, "(dotsShown.TRANSACTION || 0) >= 2");
        for (PeerNode node : nodes) {
            PeerNodeTest.awaitTrue(() -> node.transactionCount() == 1, node.address() + " stores the browser's transaction");
        }
        // and the clicked node's panel holds it, among its events and its last transactions
        awaitTrue(browser, "document.getElementById('panel').textContent.includes('from-the-browser')");
        String panel = browser.evaluate("document.getElementById('panel').textContent");
        assertTrue(panel.contains(nodes.get(0).address()) && panel.contains("TRANSACTION"), panel);

        byte[] png = Base64.getDecoder().decode(browser.call("Page.captureScreenshot", new JsonObject()).get("data").getAsString());
        Files.write(Path.of("build/mesh-view.png"), png);

        PeerNode leaving = nodes.remove(2);
        leaving.close();
        assertEquals("2 nodes, 1 links", awaitView(browser, "2 nodes, 1 links"));
    }

    /** Polls a JavaScript condition in the page until it holds, for 10 s at most. */
    private static void awaitTrue(DevTools browser, String condition) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (browser.evaluate("String(" + condition + ")").equals("true")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("within 10 s, the page never showed: " + condition);
    }

    /** Polls the rendered DOM until it shows {@code expected}; returns what it last showed. */
    private static String awaitView(DevTools browser, String expected) throws Exception {
        String shown = "";
        for (int i = 0; i < 100 && !shown.equals(expected); i++) {
            shown = browser.evaluate("document.querySelectorAll('.node').length + ' nodes, '"
                    + " + document.querySelectorAll('.link').length + ' links'");
            Thread.sleep(100);
        }
        return shown;
    }

    private DevTools launchChromium() throws Exception {
        Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
        chromium = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=900,700", "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "--user-data-dir=" + profile, "about:blank")
                .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
        Path portFile = profile.resolve("DevToolsActivePort");   // Chromium writes the port it chose here
        for (int i = 0; i < 200 && (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()); i++) {
            Thread.sleep(100);
        }
        int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
        String pages = JdkClient.HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (var page : JsonParser.parseString(pages).getAsJsonArray()) {
            if (page.getAsJsonObject().get("type").getAsString().equals("page")) {
                return new DevTools(page.getAsJsonObject().get("webSocketDebuggerUrl").getAsString());
            }
        }
        throw new AssertionError("Chromium lists no page: " + pages);
    }

    /** Just enough of the Chrome DevTools protocol: numbered calls, each answered by id. */
    static final class DevTools implements WebSocket.Listener {
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
