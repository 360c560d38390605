package wirelab.p2p;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;

/**
 * Everything a node is told at start, read from its folder: {@code .env} and
 * {@code known-peers.json}. Every setting but {@code PORT} has a default, and a bad value stops
 * the node at start with a message naming the setting, never later.
 *
 * <pre>
 * PORT=4001                        required: where the WebSocket server listens
 * HOST=localhost                   where to listen: localhost = 127.0.0.1 and ::1 only; 0.0.0.0 = every interface
 * MY_ADDRESS=ws://localhost:4001   what other nodes dial to reach this one; required when HOST goes beyond loopback
 * ALLOWED_PEER_HOSTS=loopback      hosts a HANDSHAKE may make this node dial: names, addresses, CIDR ranges, loopback
 * ALLOWED_ORIGINS=                 more browser origins that may open a WebSocket here, e.g. http://dash.lan:8080
 * MAX_PEERS=8                      outgoing connections, open or being opened, at most (Bitcoin's 8 outbound)
 * MAX_INCOMING_PEERS=              neighbours that dialed us, at most; one more is closed with 1013 (default 4 x MAX_PEERS)
 * MAX_HANDSHAKE_ADDRESSES=100      addresses taken from one HANDSHAKE, at most
 * MAX_CONNECTIONS=1000             incoming WebSocket connections at most, clients included; one more gets 503
 *                                  (lowered at start when ulimit -n is too small for it: see maxConnectionsFor)
 * PING_INTERVAL_MS=15000           a connection silent this long is pinged, and dropped if silent as long again
 * SYNC_INTERVAL_MS=10000           how often the node catches up with a neighbour picked at random (SYNC)
 * LINK_PROXY=                      host:port of an HTTP CONNECT proxy to dial every peer through: a real proxy, or
 *                                  the link simulator that make network LINK_DELAY_MS=300 starts (wirelab.LinkSimulator)
 *
 * limits among strangers ({@link Limits}), none of which a normal network meets:
 * MAX_CONNECTIONS_PER_SOURCE=      sockets of any kind from one address at most (default MAX_CONNECTIONS / 4)
 * MAX_TRANSACTION_BYTES=65536      a bigger transaction is refused
 * MAX_POOL_BYTES=1073741824        transactions.json at most (1 GiB); past it new transactions are refused
 * MAX_POOL_TRANSACTIONS=5000000    transactions held at most; past it new ones are refused. The heap holds about
 *                                  35 bytes for each (PoolIndex): 175 MB at the cap, a third of the 512 MB heap;
 *                                  and catch-up lists a bucket's ids in one message, 25,000 at most (CatchUp)
 * CATCH_UP_BYTES_PER_MINUTE=67108864  catch-up served to one source a minute at most (64 MiB), across reconnects
 * MESSAGES_PER_SECOND=5000         one connection's messages, after a burst of ten seconds' worth; then it is read slower
 * TRANSACTIONS_PER_SECOND=1000     one connection's TRANSACTIONs, after a burst of twenty seconds' worth; the same
 * MAX_SEND_QUEUE_BYTES=4194304     bytes queued to send to one connection at most (4 MiB); a peer that falls further
 *                                  behind is dropped (Bitcoin's -maxsendbuffer)
 * SEND_TIMEOUT_MS=10000            a write to a peer blocked this long (it stopped reading) drops the peer
 * UNFINISHED_MESSAGE_BYTES=67108864  bytes held in messages still arriving, on all connections at once (64 MiB);
 *                                  past it, or past a quarter of it from one address, a message is refused with 1013
 * DIAL_INTERVAL_MS=100             one outgoing connection attempt at most each this long (Bitcoin: one at a time)
 * MAX_DIAL_BACKS=2                 curriculum nodes dialed back at once, at most (in a free slot, or beyond MAX_PEERS)
 * REQUIRE_SIGNATURES=false         true refuses a transaction that is not signed (SignedTransaction); a signed one
 *                                  that does not verify is refused whatever this says
 * </pre>
 *
 * @param myAddress null means {@code ws://localhost:PORT}, once the port is known
 */
public record NodeConfig(Path folder, int port, List<String> knownPeers, String host, String myAddress,
                         List<String> allowedPeerHosts, List<String> allowedOrigins, int maxPeers, int maxIncomingPeers,
                         int maxAddressesPerHandshake, int maxConnections, int pingIntervalMs, int syncIntervalMs,
                         String linkProxy, Limits limits) {

    static final int DEFAULT_MAX_PEERS = 8;

    /** The limits a node keeps among strangers (see the table above). */
    public record Limits(int maxConnectionsPerSource, int maxTransactionBytes, long maxPoolBytes, int maxPoolTransactions,
                         long catchUpBytesPerMinute, int messagesPerSecond, int transactionsPerSecond,
                         int maxSendQueueBytes, int sendTimeoutMs, long unfinishedMessageBytes, int dialIntervalMs,
                         int maxDialBacks, boolean requireSignatures) {
        /** The limits {@code .env} sets, each within its bounds; the defaults for the rest. */
        static Limits fromEnv(Map<String, String> env, int maxConnections) throws IOException {
            Limits defaults = Limits.defaults(maxConnections);
            return new Limits(
                    envInt(env, "MAX_CONNECTIONS_PER_SOURCE", defaults.maxConnectionsPerSource(), 1, 100_000),
                    envInt(env, "MAX_TRANSACTION_BYTES", defaults.maxTransactionBytes(), 64, 1 << 20),
                    envLong(env, "MAX_POOL_BYTES", defaults.maxPoolBytes(), 1 << 16),
                    envInt(env, "MAX_POOL_TRANSACTIONS", defaults.maxPoolTransactions(), 1, 5_000_000),
                    envLong(env, "CATCH_UP_BYTES_PER_MINUTE", defaults.catchUpBytesPerMinute(), 1 << 16),
                    envInt(env, "MESSAGES_PER_SECOND", defaults.messagesPerSecond(), 1, 1_000_000),
                    envInt(env, "TRANSACTIONS_PER_SECOND", defaults.transactionsPerSecond(), 1, 1_000_000),
                    envInt(env, "MAX_SEND_QUEUE_BYTES", defaults.maxSendQueueBytes(), 2 << 20, 1 << 30),
                    envInt(env, "SEND_TIMEOUT_MS", defaults.sendTimeoutMs(), 100, 600_000),
                    envLong(env, "UNFINISHED_MESSAGE_BYTES", defaults.unfinishedMessageBytes(), 4L << 20),
                    envInt(env, "DIAL_INTERVAL_MS", defaults.dialIntervalMs(), 0, 60_000),
                    envInt(env, "MAX_DIAL_BACKS", defaults.maxDialBacks(), 0, 1_000),
                    envBoolean(env, "REQUIRE_SIGNATURES", defaults.requireSignatures()));
        }

        static Limits defaults(int maxConnections) {
            return new Limits(Math.max(1, maxConnections / 4), 64 * 1024, 1L << 30, 5_000_000, 64L << 20, 5_000, 1_000,
                    4 << 20, 10_000, 64L << 20, 100, 2, false);
        }

        public Limits withMaxConnectionsPerSource(int maxConnectionsPerSource) {
            return new Limits(maxConnectionsPerSource, maxTransactionBytes, maxPoolBytes, maxPoolTransactions,
                    catchUpBytesPerMinute, messagesPerSecond, transactionsPerSecond, maxSendQueueBytes, sendTimeoutMs,
                    unfinishedMessageBytes, dialIntervalMs, maxDialBacks, requireSignatures);
        }

        public Limits withMaxPoolBytes(long maxPoolBytes) {
            return new Limits(maxConnectionsPerSource, maxTransactionBytes, maxPoolBytes, maxPoolTransactions,
                    catchUpBytesPerMinute, messagesPerSecond, transactionsPerSecond, maxSendQueueBytes, sendTimeoutMs,
                    unfinishedMessageBytes, dialIntervalMs, maxDialBacks, requireSignatures);
        }

        public Limits withCatchUpBytesPerMinute(long catchUpBytesPerMinute) {
            return new Limits(maxConnectionsPerSource, maxTransactionBytes, maxPoolBytes, maxPoolTransactions,
                    catchUpBytesPerMinute, messagesPerSecond, transactionsPerSecond, maxSendQueueBytes, sendTimeoutMs,
                    unfinishedMessageBytes, dialIntervalMs, maxDialBacks, requireSignatures);
        }

        public Limits withMessagesPerSecond(int messagesPerSecond) {
            return new Limits(maxConnectionsPerSource, maxTransactionBytes, maxPoolBytes, maxPoolTransactions,
                    catchUpBytesPerMinute, messagesPerSecond, transactionsPerSecond, maxSendQueueBytes, sendTimeoutMs,
                    unfinishedMessageBytes, dialIntervalMs, maxDialBacks, requireSignatures);
        }

        public Limits withRequireSignatures(boolean requireSignatures) {
            return new Limits(maxConnectionsPerSource, maxTransactionBytes, maxPoolBytes, maxPoolTransactions,
                    catchUpBytesPerMinute, messagesPerSecond, transactionsPerSecond, maxSendQueueBytes, sendTimeoutMs,
                    unfinishedMessageBytes, dialIntervalMs, maxDialBacks, requireSignatures);
        }

        public Limits withDialIntervalMs(int dialIntervalMs) {
            return new Limits(maxConnectionsPerSource, maxTransactionBytes, maxPoolBytes, maxPoolTransactions,
                    catchUpBytesPerMinute, messagesPerSecond, transactionsPerSecond, maxSendQueueBytes, sendTimeoutMs,
                    unfinishedMessageBytes, dialIntervalMs, maxDialBacks, requireSignatures);
        }
    }

    /** A node on loopback that dials only loopback peers, with every other setting at its default. */
    public static NodeConfig of(Path folder, int port, List<String> knownPeers) {
        return new NodeConfig(folder, port, knownPeers, "localhost", null, List.of(PeerAddresses.LOOPBACK), List.of(),
                DEFAULT_MAX_PEERS, 4 * DEFAULT_MAX_PEERS, 100, 1_000, 15_000, 10_000, null, Limits.defaults(1_000));
    }

    /** MAX_PEERS, with MAX_INCOMING_PEERS at its default for it (4 x MAX_PEERS). */
    public NodeConfig withMaxPeers(int maxPeers) {
        return new NodeConfig(folder, port, knownPeers, host, myAddress, allowedPeerHosts, allowedOrigins, maxPeers,
                4 * maxPeers, maxAddressesPerHandshake, maxConnections, pingIntervalMs, syncIntervalMs, linkProxy, limits);
    }

    public NodeConfig withMaxIncomingPeers(int maxIncomingPeers) {
        return new NodeConfig(folder, port, knownPeers, host, myAddress, allowedPeerHosts, allowedOrigins, maxPeers,
                maxIncomingPeers, maxAddressesPerHandshake, maxConnections, pingIntervalMs, syncIntervalMs, linkProxy, limits);
    }

    public NodeConfig withPingIntervalMs(int pingIntervalMs) {
        return new NodeConfig(folder, port, knownPeers, host, myAddress, allowedPeerHosts, allowedOrigins, maxPeers,
                maxIncomingPeers, maxAddressesPerHandshake, maxConnections, pingIntervalMs, syncIntervalMs, linkProxy, limits);
    }

    public NodeConfig withSyncIntervalMs(int syncIntervalMs) {
        return new NodeConfig(folder, port, knownPeers, host, myAddress, allowedPeerHosts, allowedOrigins, maxPeers,
                maxIncomingPeers, maxAddressesPerHandshake, maxConnections, pingIntervalMs, syncIntervalMs, linkProxy, limits);
    }

    public NodeConfig withLinkProxy(String linkProxy) {
        return new NodeConfig(folder, port, knownPeers, host, myAddress, allowedPeerHosts, allowedOrigins, maxPeers,
                maxIncomingPeers, maxAddressesPerHandshake, maxConnections, pingIntervalMs, syncIntervalMs, linkProxy, limits);
    }

    public NodeConfig withLimits(Limits limits) {
        return new NodeConfig(folder, port, knownPeers, host, myAddress, allowedPeerHosts, allowedOrigins, maxPeers,
                maxIncomingPeers, maxAddressesPerHandshake, maxConnections, pingIntervalMs, syncIntervalMs, linkProxy, limits);
    }

    /** File descriptors kept for what MAX_CONNECTIONS does not count (see maxConnectionsFor). */
    static final int RESERVED_DESCRIPTORS = 64;

    /**
     * MAX_CONNECTIONS, lowered if need be to what the process's open-file limit allows, so
     * that sockets never take the descriptors the pool's appends need. Each incoming connection
     * may hold two (its socket and, while it is served catch-up or the live view, the pool's
     * file), as many more may be in their handshake, and each outgoing connection two;
     * {@link #RESERVED_DESCRIPTORS} are kept, for the JVM (about 20 open at idle), the refusals
     * being written ({@link wirelab.websocket.WebSocketServer#REFUSALS_IN_FLIGHT}) and the
     * pool's appends.
     *
     * @param openFileLimit the process's limit ({@link #openFileLimit()})
     * @throws IOException when the limit leaves no room for even one connection
     */
    int maxConnectionsFor(long openFileLimit) throws IOException {
        long room = (openFileLimit - RESERVED_DESCRIPTORS - 2L * maxPeers) / 4;
        if (room < 1) {
            throw new IOException("this process may open only " + openFileLimit + " files (ulimit -n); a node with MAX_PEERS="
                    + maxPeers + " needs at least " + (RESERVED_DESCRIPTORS + 2 * maxPeers + 4));
        }
        return (int) Math.min(maxConnections, room);
    }

    /** How many files this process may open (its soft RLIMIT_NOFILE, from /proc); Long.MAX_VALUE when unknown. */
    static long openFileLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {   // "Max open files   20000   20000   files"
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or a /proc we cannot read: no limit we know of
        }
        return Long.MAX_VALUE;
    }

    /** Reads {@code folder/.env} and {@code folder/known-peers.json}; the exception's message says what is wrong. */
    public static NodeConfig fromFolder(Path folder) throws IOException {
        Map<String, String> env = readEnv(folder.resolve(".env"));
        int port = envInt(env, "PORT", -1, 0, 65535);   // 0 picks a free port; the node logs which
        String host = env.getOrDefault("HOST", "localhost");
        String myAddress = env.get("MY_ADDRESS");
        if (myAddress != null) {
            String normalized = WsAddress.normalize(myAddress);
            if (normalized == null) {
                throw new IOException(".env: MY_ADDRESS must be ws://host:port, got '" + myAddress + "'");
            }
            myAddress = normalized;
        } else if (!PeerAddresses.isLoopbackOnly(host)) {
            throw new IOException(".env: HOST=" + host + " lets other machines reach this node, so it must say how: set "
                    + "MY_ADDRESS to the address they dial, e.g. MY_ADDRESS=ws://198.18.0.1:" + port
                    + " (telling other hosts 'localhost' would make them dial themselves)");
        }
        List<String> allowedPeerHosts = list(env.getOrDefault("ALLOWED_PEER_HOSTS", PeerAddresses.LOOPBACK));
        try {
            PeerAddresses.check(allowedPeerHosts);
        } catch (IllegalArgumentException e) {
            throw new IOException(".env: " + e.getMessage(), e);
        }
        int maxPeers = envInt(env, "MAX_PEERS", DEFAULT_MAX_PEERS, 1, 10_000);
        int maxConnections = envInt(env, "MAX_CONNECTIONS", 1_000, 1, 100_000);
        Limits limits = Limits.fromEnv(env, maxConnections);
        return new NodeConfig(folder, port, readKnownPeers(folder.resolve("known-peers.json")), host, myAddress,
                allowedPeerHosts, list(env.getOrDefault("ALLOWED_ORIGINS", "")),
                maxPeers, envInt(env, "MAX_INCOMING_PEERS", 4 * maxPeers, 1, 100_000),
                envInt(env, "MAX_HANDSHAKE_ADDRESSES", 100, 1, 10_000),
                maxConnections, envInt(env, "PING_INTERVAL_MS", 15_000, 0, 3_600_000),
                envInt(env, "SYNC_INTERVAL_MS", 10_000, 100, 3_600_000), linkProxy(env), limits);
    }

    /** LINK_PROXY: host:port, or null when unset. */
    private static String linkProxy(Map<String, String> env) throws IOException {
        String proxy = env.get("LINK_PROXY");
        if (proxy == null || proxy.isBlank()) {
            return null;
        }
        int colon = proxy.lastIndexOf(':');
        try {
            if (colon > 0 && Integer.parseInt(proxy.substring(colon + 1)) > 0) {
                return proxy.trim();
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IOException(".env: LINK_PROXY must be host:port, e.g. localhost:14001, got '" + proxy + "'");
    }

    /** Only the port, for a client such as {@link AddTransaction} that dials the node and needs nothing else. */
    public static int portOf(Path folder) throws IOException {
        return envInt(readEnv(folder.resolve(".env")), "PORT", -1, 1, 65535);
    }

    private static List<String> list(String commaSeparated) {
        List<String> items = new ArrayList<>();
        for (String item : commaSeparated.split(",")) {
            if (!item.isBlank()) {
                items.add(item.trim().toLowerCase(Locale.ROOT));
            }
        }
        return items;
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

    private static boolean envBoolean(Map<String, String> env, String name, boolean defaultValue) throws IOException {
        String text = env.get(name);
        if (text == null) {
            return defaultValue;
        }
        if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(text);
        }
        throw new IOException(".env: " + name + " must be true or false, got '" + text + "'");
    }

    private static long envLong(Map<String, String> env, String name, long defaultValue, long min) throws IOException {
        String text = env.get(name);
        if (text == null) {
            return defaultValue;
        }
        try {
            long value = Long.parseLong(text);
            if (value >= min) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IOException(".env: " + name + " must be a whole number of at least " + min + ", got '" + text + "'");
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
