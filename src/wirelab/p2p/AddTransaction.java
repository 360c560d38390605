package wirelab.p2p;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import wirelab.Trace;
import wirelab.websocket.WebSocketClient;

/**
 * The curriculum's add-transaction.js in Java: a one-off client ({@link WebSocketClient}) that
 * connects to one node, sends {@code {"type": "TRANSACTION", "data": <transaction>}} and closes.
 * The node stores it and gossips it to the rest of the network ({@link BroadcastTree}).
 *
 * <p>The transaction is signed ({@link SignedTransaction}) with the node folder's wallet
 * ({@code wallet.json}, made at first use), or with the wallet file {@code --key} names;
 * {@code --unsigned} sends it as the curriculum does.
 */
public final class AddTransaction {

    private static final String USAGE = "usage: scripts/add-transaction.sh node-N ['{\"from\":\"alice\",\"to\":\"bob\",\"amount\":5}']"
            + " [--key WALLET_FILE | --unsigned] [--trace]   (signs with node-N/wallet.json unless told otherwise)";

    private AddTransaction() {
    }

    public static void main(String[] commandLine) throws Exception {
        List<String> rest = new ArrayList<>(List.of(commandLine));
        if (rest.remove("--trace")) {   // every handshake line and frame on the wire, to stderr
            Trace.enable();
        }
        boolean unsigned = rest.remove("--unsigned");
        Path keyFile = keyFile(rest, unsigned);
        String[] args = rest.toArray(String[]::new);
        if (args.length < 1 || args.length > 2 || args[0].startsWith("-")) {
            System.err.println(USAGE);
            System.exit(args.length >= 1 && (args[0].equals("--help") || args[0].equals("-h")) ? 0 : 2);
        }
        Path folder = Path.of(args[0]);
        int port = NodeConfig.portOf(folder);
        JsonObject transaction = parse(args.length == 2 ? args[1]
                : "{\"from\":\"alice\",\"to\":\"bob\",\"amount\":" + (1 + (System.nanoTime() % 100)) + "}");
        if (!transaction.has("id")) {
            // Each new transaction gets its own id here, where it is made: two genuine
            // transactions with equal content stay two (their digests differ by it).
            transaction.addProperty("id", UUID.randomUUID().toString());
        }
        if (!unsigned) {
            transaction = Wallet.openOrCreate(keyFile != null ? keyFile : folder.resolve("wallet.json")).sign(transaction);
        }
        String message = Message.transaction(transaction.toString(), false);

        String address = "ws://localhost:" + port;
        try (WebSocketClient client = WebSocketClient.connect("localhost", port, 5_000)) {
            client.sendText(message);
        } catch (IOException e) {
            System.err.println("add-transaction: could not send to " + address + ": " + e.getMessage());
            System.exit(1);
        }
        System.out.println("sent to " + address + ": " + message);
    }

    /** The wallet --key names, taken out of {@code rest}; null without one. Exits 2 for --key without a file, or with --unsigned. */
    private static Path keyFile(List<String> rest, boolean unsigned) {
        int key = rest.indexOf("--key");
        if (key < 0) {
            return null;
        }
        if (key + 1 >= rest.size() || unsigned) {
            System.err.println(USAGE);
            System.exit(2);
        }
        Path keyFile = Path.of(rest.remove(key + 1));
        rest.remove(key);
        return keyFile;
    }

    /** The transaction given on the command line; exits 2 when it is not a JSON object. */
    private static JsonObject parse(String json) {
        try {
            return JsonParser.parseString(json).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            System.err.println("add-transaction: the transaction must be a JSON object, got " + json);
            System.exit(2);
            throw new IllegalStateException("not reached");
        }
    }
}
