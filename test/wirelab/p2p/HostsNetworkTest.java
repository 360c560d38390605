package wirelab.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static wirelab.p2p.PeerNodeTest.awaitTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.websocket.JdkClient;

/**
 * Nodes on different hosts: three network namespaces made by scripts/hosts-network.sh, each
 * with its own address in 198.18.0.0/24 and a node on port 4001. Traffic stays inside what the
 * script made, and the script removes it all, however the test ends. Needs root and `ip`;
 * without them the test reports itself skipped, and why.
 */
@Timeout(180)
class HostsNetworkTest {

    private static final List<String> HOSTS = List.of("ws://198.18.0.1:4001", "ws://198.18.0.2:4001", "ws://198.18.0.3:4001");

    @TempDir
    Path nodes;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void threeHostsMeshBothWaysAndStoreATransactionFromEachExactlyOnce() throws Exception {
        assumeTrue(isRoot(), "making network namespaces needs root");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip")), "needs the ip command");
        String existing = run("ip", "netns", "list");
        assumeTrue(!existing.contains("wirelab-"), "a hosts network is already up here: " + existing.trim());
        String up = run("scripts/hosts-network.sh", "up", "3");
        try {
            assumeTrue(!up.contains("Operation not permitted"), "this machine does not allow network namespaces: " + up);
            assertTrue(up.contains("live view of the mesh: http://198.18.0.1:4001/"), up);
            for (int k = 0; k < 3; k++) {
                String self = HOSTS.get(k);
                Set<String> others = new HashSet<>(HOSTS);
                others.remove(self);
                awaitTrue(() -> holds(() -> self.equals(status(self).get("address").getAsString())
                        && others.equals(strings(status(self), "connectedAddresses"))),
                        self + " should call itself by its MY_ADDRESS and be connected to both others: " + safeStatus(self));
            }
            for (int k = 0; k < 3; k++) {
                JdkClient client = JdkClient.connect(HOSTS.get(k));
                client.send("{\"type\":\"TRANSACTION\",\"data\":{\"id\":\"from-host-" + (k + 1) + "\",\"amount\":" + k + "}}");
                client.webSocket.sendClose(1000, "done").get(5, TimeUnit.SECONDS);
            }
            for (String host : HOSTS) {
                awaitTrue(() -> holds(() -> status(host).get("transactionCount").getAsInt() == 3), host + " stores all three");
            }
            Thread.sleep(300);
            for (int k = 1; k <= 3; k++) {
                List<String> ids = JsonParser.parseString(Files.readString(nodes.resolve("host-" + k).resolve("transactions.json")))
                        .getAsJsonArray().asList().stream().map(t -> t.getAsJsonObject().get("id").getAsString()).toList();
                assertEquals(Set.of("from-host-1", "from-host-2", "from-host-3"), new HashSet<>(ids), "host " + k);
                assertEquals(3, ids.size(), "host " + k + " stored one twice: " + ids);
            }
            assertTrue(get("http://198.18.0.1:4001/").contains("<title>wirelab mesh</title>"), "host 1 serves the live view");
            assertEquals(new HashSet<>(HOSTS), walkLikeTheLiveView("ws://198.18.0.1:4001"));
            if (Files.isExecutable(Chromium.BINARY)) {   // the page itself, as a browser on this machine draws it
                try (Chromium browser = Chromium.launch(nodes)) {
                    browser.open("http://198.18.0.1:4001/");
                    browser.awaitTrue("document.querySelectorAll('.node').length === 3");
                    String drawn = browser.evaluate("[...document.querySelectorAll('.node')].map(n => n.dataset.address).sort().join(' ')");
                    assertEquals(String.join(" ", HOSTS), drawn);
                }
            }
        } finally {
            String down = run("scripts/hosts-network.sh", "down");
            assertTrue(!run("ip", "netns", "list").contains("wirelab-"), "namespaces left behind: " + down);
        }
    }

    /** The live view's walk: start at one node's /status and follow connectedAddresses breadth-first. */
    private Set<String> walkLikeTheLiveView(String start) {
        Set<String> seen = new HashSet<>(List.of(start));
        Queue<String> frontier = new ArrayDeque<>(seen);
        while (!frontier.isEmpty()) {
            for (String next : strings(status(frontier.remove()), "connectedAddresses")) {
                if (seen.add(next)) {
                    frontier.add(next);
                }
            }
        }
        return seen;
    }

    private JsonObject status(String address) {
        return JsonParser.parseString(get(address.replace("ws://", "http://") + "/status")).getAsJsonObject();
    }

    /** The condition, or false while a node is not up yet to answer it. */
    private static boolean holds(java.util.function.BooleanSupplier condition) {
        try {
            return condition.getAsBoolean();
        } catch (RuntimeException e) {
            return false;
        }
    }

    private String safeStatus(String address) {
        try {
            return status(address).toString();
        } catch (RuntimeException e) {
            return e.toString();
        }
    }

    private String get(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(url + ": " + e, e);
        }
    }

    private static Set<String> strings(JsonObject status, String field) {
        Set<String> values = new HashSet<>();
        for (JsonElement each : status.getAsJsonArray(field)) {
            values.add(each.getAsString());
        }
        return values;
    }

    /** Runs a command to its end (60 s at most, then it and what it started are killed); returns what it printed. */
    private String run(String... command) throws IOException, InterruptedException {
        Path output = Files.createTempFile(nodes, "run", ".txt");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().put("WIRELAB_NODES", nodes.toString());
        Process process = builder.start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        return Files.readString(output);
    }

    private static boolean isRoot() {
        try {
            return new String(new ProcessBuilder("id", "-u").start().getInputStream().readAllBytes()).trim().equals("0");
        } catch (IOException e) {
            return false;
        }
    }
}
