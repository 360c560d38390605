package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live view, in a real headless Chromium driven over the DevTools protocol (a WebSocket,
 * spoken here with the JDK client). Skipped, with the reason, where Chromium is not installed.
 */
@Timeout(90)
class MeshViewBrowserTest {

    @TempDir
    Path dir;

    private final List<PeerNode> nodes = new ArrayList<>();

    @AfterEach
    void stopNodes() {
        nodes.forEach(PeerNode::close);
    }

    @Test
    void theViewShowsThreeNodesTheirLinksAndGossipPassingThenDropsOneThatStops() throws Exception {
        try (Chromium browser = Chromium.launch(dir)) {
            for (int i = 0; i < 3; i++) {
                Path folder = Files.createDirectories(dir.resolve("node-" + i));
                List<String> known = nodes.isEmpty() ? List.of() : List.of(nodes.get(0).address());
                nodes.add(PeerNode.start(NodeConfig.of(folder, PeerNodeTest.freePort(), known)));
            }
            PeerNodeTest.awaitFullMesh(nodes);
            browser.open("http://localhost:" + nodes.get(0).port() + "/");

            assertEquals("3 nodes, 3 links", awaitView(browser, "3 nodes, 3 links"));
            String labels = browser.evaluate("[...document.querySelectorAll('.node')].map(n => n.dataset.address).sort().join(' ')");
            for (PeerNode node : nodes) {
                assertTrue(labels.contains(node.address()), labels);
            }
            // Every node's event stream is open, and the first node's panel with it.
            browser.awaitTrue("[...sources.values()].filter(s => s.readyState === 1).length === 3");
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
            browser.awaitTrue("document.querySelectorAll('.dot.TRANSACTION').length > 0");
            Files.createDirectories(Path.of("build"));
            Files.write(Path.of("build/mesh-gossip.png"), browser.screenshot());
            browser.awaitTrue("(dotsShown.TRANSACTION || 0) >= 2");
            for (PeerNode node : nodes) {
                PeerNodeTest.awaitTrue(() -> node.transactionCount() == 1, node.address() + " stores the browser's transaction");
            }
            // and the clicked node's panel holds it, among its events and its last transactions
            browser.awaitTrue("document.getElementById('panel').textContent.includes('from-the-browser')");
            String panel = browser.evaluate("document.getElementById('panel').textContent");
            assertTrue(panel.contains(nodes.get(0).address()) && panel.contains("TRANSACTION"), panel);
            Files.write(Path.of("build/mesh-view.png"), browser.screenshot());

            PeerNode leaving = nodes.remove(2);
            leaving.close();
            assertEquals("2 nodes, 1 links", awaitView(browser, "2 nodes, 1 links"));
        }
    }

    /** Polls the rendered DOM until it shows {@code expected}; returns what it last showed. */
    private static String awaitView(Chromium browser, String expected) throws Exception {
        String shown = "";
        for (int i = 0; i < 100 && !shown.equals(expected); i++) {
            shown = browser.evaluate("document.querySelectorAll('.node').length + ' nodes, '"
                    + " + document.querySelectorAll('.link').length + ' links'");
            Thread.sleep(100);
        }
        return shown;
    }
}
