package wirelab.p2p;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.google.gson.Gson;
import com.google.gson.JsonObject;

import wirelab.websocket.HttpRequest;
import wirelab.websocket.HttpResponse;

import wirelab.Text;

/**
 * The live view, served on the node's own port: a browser's GET is not a WebSocket upgrade, so
 * {@link wirelab.websocket.WebSocketServer} hands it here. {@code /} is the page
 * ({@code mesh.html}, which walks the mesh through every node's status and listens to every
 * node's events); {@code /status} is this node's own state as JSON; {@code /events} its
 * messages as they go ({@link NodeEvents}).
 *
 * <p>Any web page the user visits can send requests to a node on their machine, so every
 * request is checked before it is answered:
 * <ul>
 * <li>{@code Host} must name this node: a loopback name or address, MY_ADDRESS's host, or a
 *     host in ALLOWED_PEER_HOSTS or ALLOWED_ORIGINS; anything else gets 421. A page on
 *     {@code rebind.attacker.test} whose name has been made to resolve to 127.0.0.1 (DNS
 *     rebinding) sends its own name, and is refused (geth's {@code --http.vhosts}, CUPS).
 * <li>{@code Origin}, when a browser sends one, must be one the node allows (the same rule as
 *     for opening a WebSocket: a loopback or allowed host, or ALLOWED_ORIGINS); anything else
 *     gets 403. An allowed origin is named in {@code Access-Control-Allow-Origin}, which lets
 *     the page served by one node read the others; no other page can read a node.
 * </ul>
 */
final class MeshView {

    private static final Gson gson = new Gson();
    private static final byte[] MESH_PAGE = loadMeshPage();

    private final PeerNode node;

    MeshView(PeerNode node) {
        this.node = node;
    }

    HttpResponse answer(HttpRequest request) {
        String host = request.header("host");
        if (!node.addresses().isServedHost(host)) {
            node.counts().refused(Refusal.HTTP_OTHER_HOST);
            return HttpResponse.text(421, "this node answers for Host localhost, 127.0.0.1, [::1], its MY_ADDRESS's host and "
                    + "the hosts in ALLOWED_PEER_HOSTS and ALLOWED_ORIGINS; got '" + Text.abbreviate(host) + "'");
        }
        String origin = request.header("origin");
        if (origin.isEmpty()) {
            return route(request);
        }
        if (!node.addresses().isAllowedOrigin(origin)) {
            node.counts().refused(Refusal.HTTP_OTHER_ORIGIN);
            return HttpResponse.text(403, "a page from " + Text.abbreviate(origin) + " may not read this node; "
                    + "ALLOWED_ORIGINS in its .env can name it");
        }
        return route(request).withHeaders(Map.of("Access-Control-Allow-Origin", origin, "Vary", "Origin"));
    }

    private HttpResponse route(HttpRequest request) {
        return switch (request.path()) {
            case "/" -> new HttpResponse(200,
                    Map.of("Content-Type", "text/html; charset=utf-8", "Cache-Control", "no-store"), MESH_PAGE);
            case "/events" -> node.events().subscribe();
            case "/status" -> new HttpResponse(200,
                    Map.of("Content-Type", "application/json", "Cache-Control", "no-store"),
                    statusJson().getBytes(StandardCharsets.UTF_8));
            default -> HttpResponse.text(404, "nothing at " + Text.abbreviate(request.path())
                    + "; try / (the live mesh view), /status or /events");
        };
    }

    /**
     * {"address", "connectedAddresses" (outgoing, the curriculum's), "attemptingToConnectToAddress",
     * "incomingAddresses" (neighbours that dialed us), "neighbours" (each with its direction and
     * link), "addressBookSize", "transactionCount", "lastTransactions", "messagesSent" and
     * "messagesReceived" (by type), "bytesSent", "refused" (by reason), "sources" (the 50 heard
     * from last, each with "accepted", "refused" by reason and "bytesServed")}
     */
    String statusJson() {
        JsonObject status = new JsonObject();
        status.addProperty("address", node.address());
        status.add("connectedAddresses", gson.toJsonTree(node.connectedAddresses()));
        status.add("attemptingToConnectToAddress", gson.toJsonTree(node.attemptingToConnectToAddress()));
        status.add("incomingAddresses", gson.toJsonTree(node.incomingAddresses()));
        status.add("neighbours", gson.toJsonTree(node.neighbours()));
        status.addProperty("addressBookSize", node.addressBookSize());
        status.addProperty("transactionCount", node.transactionCount());
        status.add("lastTransactions", gson.toJsonTree(node.lastTransactions(5)));
        status.add("messagesSent", gson.toJsonTree(node.counts().sent()));
        status.add("messagesReceived", gson.toJsonTree(node.counts().received()));
        status.addProperty("bytesSent", node.counts().bytesSent());
        status.add("refused", gson.toJsonTree(node.counts().refused()));
        status.add("sources", gson.toJsonTree(node.sources(50)));
        return gson.toJson(status);
    }

    private static byte[] loadMeshPage() {
        try (var in = MeshView.class.getResourceAsStream("mesh.html")) {
            if (in == null) {
                throw new IllegalStateException("mesh.html is missing from the class path (make build copies it)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
