package wirelab.p2p;

import wirelab.websocket.IncomingConnection;
import wirelab.websocket.WebSocketServer;
import wirelab.websocket.JdkClient;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Plays the curriculum's test helper, a foreign node: it runs its own WebSocket server,
 * connects to a node, sends a HANDSHAKE naming its own address, then waits for the node to
 * connect back and for the HANDSHAKE the node sends on that connection.
 */
final class ForeignNode implements AutoCloseable {

    final WebSocketServer server;
    final String address;
    final CompletableFuture<Void> nodeConnectedBack = new CompletableFuture<>();
    final BlockingQueue<JsonObject> messagesFromNode = new LinkedBlockingQueue<>();
    private JdkClient client;

    ForeignNode() throws Exception {
        server = WebSocketServer.start(WebSocketServer.Options.onPort(0), new WebSocketServer.Listener() {
            @Override
            public void onOpen(IncomingConnection connection) {
                nodeConnectedBack.complete(null);
            }

            @Override
            public void onText(IncomingConnection connection, String text) {
                messagesFromNode.add(JsonParser.parseString(text).getAsJsonObject());
            }
        });
        address = "ws://localhost:" + server.port();
    }

    /** Connects to {@code nodeAddress} and says HANDSHAKE [our address]. */
    ForeignNode handshakeWith(String nodeAddress) throws Exception {
        client = JdkClient.connect(nodeAddress);
        client.send("{\"type\":\"HANDSHAKE\",\"data\":[\"" + address + "\"]}");
        return this;
    }

    void send(String text) throws Exception {
        client.send(text);
    }

    /** The HANDSHAKE the node sends once it has connected back. */
    JsonObject awaitHandshake() throws Exception {
        nodeConnectedBack.get(10, TimeUnit.SECONDS);
        JsonObject message = messagesFromNode.poll(10, TimeUnit.SECONDS);
        if (message == null) {
            throw new AssertionError("the node connected back but sent no HANDSHAKE within 10 s");
        }
        return message;
    }

    static List<String> addresses(JsonObject handshake) {
        return handshake.getAsJsonArray("data").asList().stream().map(e -> e.getAsString()).toList();
    }

    /** Leaves as the curriculum's helper does: its server and its client just go away. */
    @Override
    public void close() {
        if (client != null) {
            client.webSocket.abort();
        }
        server.abort();
    }
}
