package wirelab.p2p;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

/**
 * The curriculum's add-transaction.js in Java: a one-off client that connects to one node,
 * sends {@code {"type": "TRANSACTION", "data": <transaction>}} and closes. The node stores it
 * and gossips it to the rest of the network ({@link PeerNode}).
 */
public final class AddTransaction {

    private AddTransaction() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2 || args[0].startsWith("-")) {
            System.err.println("usage: scripts/add-transaction.sh node-N ['{\"from\":\"alice\",\"to\":\"bob\",\"amount\":5}']");
            System.exit(args.length >= 1 && (args[0].equals("--help") || args[0].equals("-h")) ? 0 : 2);
        }
        int port = NodeConfig.portOf(Path.of(args[0]));
        JsonObject transaction;
        try {
            String json = args.length == 2 ? args[1]
                    : "{\"from\":\"alice\",\"to\":\"bob\",\"amount\":" + (1 + (System.nanoTime() % 100)) + "}";
            transaction = JsonParser.parseString(json).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            System.err.println("add-transaction: the transaction must be a JSON object, got " + args[1]);
            System.exit(2);
            return;
        }
        if (!transaction.has("id")) {
            // Each new transaction gets its own id here, where it is made: two genuine
            // transactions with equal content stay two (see TransactionId).
            transaction.addProperty("id", UUID.randomUUID().toString());
        }
        JsonObject message = new JsonObject();
        message.addProperty("type", "TRANSACTION");
        message.add("data", transaction);

        String address = "ws://localhost:" + port;
        try (HttpClient client = HttpClient.newHttpClient()) {
            WebSocket socket = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(3))
                    .buildAsync(URI.create(address), new WebSocket.Listener() { })
                    .get(5, TimeUnit.SECONDS);
            socket.sendText(message.toString(), true).get(5, TimeUnit.SECONDS);
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
            System.out.println("sent to " + address + ": " + message);
        } catch (Exception e) {
            System.err.println("add-transaction: could not send to " + address + ": " + e);
            System.exit(1);
        }
    }
}
