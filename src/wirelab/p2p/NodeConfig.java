package wirelab.p2p;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

/**
 * Everything a node is told at start, read from its folder: {@code .env} and
 * {@code known-peers.json}. Every setting but {@code PORT} has a default, and a value out of
 * range stops the node at start with a message naming the setting, never later.
 *
 * <pre>
 * PORT=4001                       required: where the WebSocket server listens
 * HOST=localhost                  where to listen: localhost = 127.0.0.1 and ::1 only; 0.0.0.0 exposes it
 * ALLOWED_PEER_HOSTS=loopback     the hosts a HANDSHAKE may make this node dial (see PeerAddresses)
 * MAX_PEERS=100                   outgoing connections, open or being opened, at most
 * MAX_HANDSHAKE_ADDRESSES=100     addresses taken from one HANDSHAKE, at most
 * </pre>
 */
public record NodeConfig(Path folder, int port, List<String> knownPeers, String host,
                         Set<String> allowedPeerHosts, int maxPeers, int maxAddressesPerHandshake) {

    /** A node on loopback that dials only loopback peers, at most 100 of them. */
    public static NodeConfig of(Path folder, int port, List<String> knownPeers) {
        return new NodeConfig(folder, port, knownPeers, "localhost", Set.of(PeerAddresses.LOOPBACK), 100, 100);
    }

    public NodeConfig withMaxPeers(int maxPeers) {
        return new NodeConfig(folder, port, knownPeers, host, allowedPeerHosts, maxPeers, maxAddressesPerHandshake);
    }

    /** Reads {@code folder/.env} and {@code folder/known-peers.json}; the message of the exception says what is wrong. */
    public static NodeConfig fromFolder(Path folder) throws IOException {
        Map<String, String> env = readEnv(folder.resolve(".env"));
        Set<String> allowed = new LinkedHashSet<>();
        for (String host : env.getOrDefault("ALLOWED_PEER_HOSTS", PeerAddresses.LOOPBACK).split(",")) {
            allowed.add(host.trim().toLowerCase(Locale.ROOT));
        }
        return new NodeConfig(folder, envInt(env, "PORT", -1, 1, 65535), readKnownPeers(folder.resolve("known-peers.json")),
                env.getOrDefault("HOST", "localhost"), allowed,
                envInt(env, "MAX_PEERS", 100, 1, 10_000), envInt(env, "MAX_HANDSHAKE_ADDRESSES", 100, 1, 10_000));
    }

    /** Only the port, for a client such as {@link AddTransaction} that dials the node and needs nothing else. */
    public static int portOf(Path folder) throws IOException {
        return envInt(readEnv(folder.resolve(".env")), "PORT", -1, 1, 65535);
    }

    private static List<String> readKnownPeers(Path file) throws IOException {
        List<String> knownPeers = new ArrayList<>();
        if (Files.exists(file)) {
            try {
                for (JsonElement element : JsonParser.parseString(Files.readString(file)).getAsJsonArray()) {
                    knownPeers.add(element.getAsString());
                }
            } catch (RuntimeException e) {
                throw new IOException(file + " must be a JSON array of \"ws://host:port\" strings: " + e.getMessage(), e);
            }
        }
        return knownPeers;
    }

    /** NAME=value lines; blank lines and # comments are skipped, quotes around a value dropped. */
    private static Map<String, String> readEnv(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new IOException(file + " is missing; it must hold a line PORT=<number>");
        }
        Map<String, String> env = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            line = line.trim();
            int equals = line.indexOf('=');
            if (line.isEmpty() || line.startsWith("#") || equals < 0) {
                continue;
            }
            String value = line.substring(equals + 1).trim().replaceAll("^[\"']|[\"']$", "");
            env.put(line.substring(0, equals).trim(), value);
        }
        return env;
    }

    private static int envInt(Map<String, String> env, String name, int defaultValue, int min, int max) throws IOException {
        String text = env.get(name);
        if (text == null) {
            if (defaultValue < 0) {
                throw new IOException(".env must set " + name);
            }
            return defaultValue;
        }
        try {
            int value = Integer.parseInt(text);
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IOException(".env: " + name + " must be a whole number from " + min + " to " + max + ", got '" + text + "'");
    }
}
