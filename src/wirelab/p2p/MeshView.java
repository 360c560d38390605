package wirelab.p2p;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import com.google.gson.Gson;
import com.google.gson.JsonObject;

import wirelab.websocket.HttpRequest;
import wirelab.websocket.HttpResponse;

/**
 * The live view, served on the node's own port: a browser's GET is not a WebSocket upgrade, so
 * {@link wirelab.websocket.WebSocketServer} hands it here. {@code /} is the page
 * ({@code mesh.html}, which walks the mesh through every node's status and listens to every
 * node's events); {@code /status} is this node's own state as JSON; {@code /events} its
 * messages as they go ({@link NodeEvents}). Their CORS header lets a page served by one node
 * read the others.
 */
final class MeshView {

    private static final Gson gson = new Gson();
    private static final byte[] MESH_PAGE = loadMeshPage();

    private final PeerNode node;

    MeshView(PeerNode node) {
        this.node = node;
    }

    HttpResponse answer(HttpRequest request) {
        return switch (request.path()) {
            case "/" -> new HttpResponse(200,
                    Map.of("Content-Type", "text/html; charset=utf-8", "Cache-Control", "no-store"), MESH_PAGE);
            case "/events" -> node.events().subscribe();
            case "/status" -> new HttpResponse(200,
                    Map.of("Content-Type", "application/json", "Access-Control-Allow-Origin", "*", "Cache-Control", "no-store"),
                    statusJson().getBytes(StandardCharsets.UTF_8));
            default -> HttpResponse.text(404, "nothing at " + PeerNode.abbreviate(request.path())
                    + "; try / (the live mesh view), /status or /events");
        };
    }

    /**
     * {"address", "connectedAddresses" (outgoing, the curriculum's), "attemptingToConnectToAddress",
     * "incomingAddresses" (neighbours that dialed us), "neighbours" (each with its direction and
     * link), "addressBookSize", "transactionCount", "lastTransactions", "messagesSent" and
     * "messagesReceived" (by type), "bytesSent"}
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
