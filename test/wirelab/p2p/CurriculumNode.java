package wirelab.p2p;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import wirelab.websocket.IncomingConnection;
import wirelab.websocket.WebSocketServer;

/**
 * A foreign node written as a learner following the curriculum would: it knows HANDSHAKE and
 * TRANSACTION only, ignores every other type, dials back every address a HANDSHAKE names, and
 * finds a duplicate transaction by comparing its content with every one it holds. It meshes
 * with our nodes over the same wire, so a test can check that ours still speak its language.
 */
final class CurriculumNode implements AutoCloseable {

    final WebSocketServer server;
    final String address;
    final List<JsonObject> transactions = new CopyOnWriteArrayList<>();
    private final Map<String, WebSocket> connected = new ConcurrentHashMap<>();
    private final Set<String> attempting = ConcurrentHashMap.newKeySet();
    private final HttpClient http = HttpClient.newHttpClient();

    CurriculumNode() throws Exception {
        server = WebSocketServer.start(WebSocketServer.Options.onPort(0), new WebSocketServer.Listener() {
            @Override
            public void onText(IncomingConnection connection, String text) {
                receive(text);
            }
        });
        address = "ws://localhost:" + server.port();
    }

    private void receive(String text) {
        JsonObject message = JsonParser.parseString(text).getAsJsonObject();
        switch (message.get("type").getAsString()) {
            case "HANDSHAKE" -> message.getAsJsonArray("data").forEach(a -> connectTo(a.getAsString()));
            case "TRANSACTION" -> {
                JsonObject transaction = message.getAsJsonObject("data");
                synchronized (transactions) {
                    if (transactions.contains(transaction)) {   // the learner's duplicate check: equal content
                        return;
                    }
                    transactions.add(transaction);
                }
                connected.values().forEach(ws -> send(ws, text));
            }
            default -> { }   // a type it does not know: ignored, as the curriculum's switch does
        }
    }

    void connectTo(String peer) {
        if (peer.equals(address) || connected.containsKey(peer) || !attempting.add(peer)) {
            return;
        }
        http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(3)).buildAsync(URI.create(peer), new WebSocket.Listener() {
            @Override
            public void onOpen(WebSocket webSocket) {
                connected.put(peer, webSocket);
                attempting.remove(peer);
                List<String> data = new ArrayList<>(connected.keySet());
                data.add(address);
                send(webSocket, "{\"type\":\"HANDSHAKE\",\"data\":" + new Gson().toJson(data) + "}");
                webSocket.request(Long.MAX_VALUE);
            }

            @Override
            public java.util.concurrent.CompletionStage<?> onClose(WebSocket webSocket, int code, String reason) {
                connected.remove(peer);
                return null;
            }
        }).whenComplete((ws, error) -> attempting.remove(peer));
    }

    /** Sends one TRANSACTION to every node it is connected to, as the learner's node does for a new one. */
    void addTransaction(String transactionJson) {
        JsonElement transaction = JsonParser.parseString(transactionJson);
        transactions.add(transaction.getAsJsonObject());
        String text = "{\"type\":\"TRANSACTION\",\"data\":" + transactionJson + "}";
        connected.values().forEach(ws -> send(ws, text));
    }

    /** The JDK client takes one send at a time on a WebSocket. */
    private static void send(WebSocket webSocket, String text) {
        synchronized (webSocket) {
            webSocket.sendText(text, true).orTimeout(5, TimeUnit.SECONDS).join();
        }
    }

    Set<String> connectedAddresses() {
        return Set.copyOf(connected.keySet());
    }

    @Override
    public void close() {
        connected.values().forEach(WebSocket::abort);
        server.abort();
        http.shutdownNow();
    }
}
