package wirelab;

import static java.lang.System.Logger.Level.INFO;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Real links on one machine: loopback costs nothing, so a network of nodes on it never shows
 * what a 100 ms link, a slow one, a reset or a cut does to gossip. This is a small HTTP CONNECT
 * proxy (RFC 9110, 9.3.6) with a simulated link behind it, in the manner of Toxiproxy. Each
 * node is a <em>station</em>: the simulator listens on one port for it, and the node dials every
 * peer through that port ({@code LINK_PROXY} in its {@code .env}; the JDK's WebSocket client
 * tunnels through a CONNECT proxy). So every node-to-node connection crosses exactly one
 * simulated link, and the simulator knows both of its ends:
 *
 * <pre>
 *   node A --CONNECT localhost:4002--> [station of A] ==(delay, jitter, bandwidth)==> node B :4002
 *          <-------------------------- [            ] <==(the same, the other way)==
 * </pre>
 *
 * <ul>
 * <li><b>delay and jitter</b>: each chunk read is written on after {@code delay} plus or minus up
 *     to {@code jitter} milliseconds, never before a chunk read before it (TCP keeps order);
 * <li><b>bandwidth</b>: bytes per second each way, per connection (0: no limit);
 * <li><b>reset</b>: every connection through the simulator is cut with a TCP RST, both ends;
 * <li><b>partition</b>: stations on one side no longer reach the others. {@link Cut#HOLD} drops
 *     packets, as a cut cable or a firewall does: connections stay up, what is sent across waits
 *     (TCP would retransmit it), a new connection across hangs, and all of it flows at the heal.
 *     {@link Cut#RESET} also resets the connections across, and refuses new ones until the heal.
 * </ul>
 *
 * Only loopback targets are tunnelled to. Conditions may change while it runs.
 */
public final class LinkSimulator implements AutoCloseable {

    private static final System.Logger log = System.getLogger("link-simulator");
    private static final int CHUNK = 16 * 1024;

    /** How every link behaves now. */
    public record Conditions(int delayMs, int jitterMs, long bytesPerSecond) {
        public static final Conditions LOOPBACK = new Conditions(0, 0, 0);
    }

    /** What a partition does to the connections across it. */
    public enum Cut { HOLD, RESET }

    private final Map<Integer, ServerSocket> stations = new LinkedHashMap<>();   // node port -> its station
    private final Set<Tunnel> tunnels = ConcurrentHashMap.newKeySet();
    private volatile Conditions conditions;
    private volatile Set<Integer> cutOff = Set.of();   // node ports on the far side of a partition; empty when whole
    private volatile Cut cut = Cut.HOLD;
    private final Object healed = new Object();        // notified when the partition heals

    private LinkSimulator(Conditions conditions) {
        this.conditions = conditions;
    }

    /** A station for each node port; station ports are picked free, unless {@code stationPortOffset} > 0 (node port + offset). */
    public static LinkSimulator start(List<Integer> nodePorts, int stationPortOffset, Conditions conditions) throws IOException {
        LinkSimulator simulator = new LinkSimulator(conditions);
        for (int nodePort : nodePorts) {
            ServerSocket station = Sockets.listen(InetAddress.getLoopbackAddress(), stationPortOffset > 0 ? nodePort + stationPortOffset : 0);
            simulator.stations.put(nodePort, station);
            Thread.ofVirtual().name("station-" + nodePort)
                    .start(() -> Sockets.acceptConnections(station, "link", socket -> simulator.tunnel(nodePort, socket), log));
        }
        return simulator;
    }

    /** The port the node listening on {@code nodePort} dials through ({@code LINK_PROXY=localhost:PORT}). */
    public int stationPort(int nodePort) {
        return stations.get(nodePort).getLocalPort();
    }

    public void setConditions(Conditions conditions) {
        this.conditions = conditions;
    }

    /** Cuts the nodes listening on {@code side} off from every other station's node, until {@link #heal}. */
    public void partition(Set<Integer> side, Cut how) {
        cut = how;
        cutOff = Set.copyOf(side);
        if (how == Cut.RESET) {
            tunnels.stream().filter(this::isAcrossTheCut).forEach(Tunnel::reset);
        }
        log.log(INFO, "partition (" + how + "): " + side + " cut off from the rest");
    }

    /** The network is whole again: what was held flows, and new connections across go through. */
    public void heal() {
        cutOff = Set.of();
        synchronized (healed) {
            healed.notifyAll();
        }
        log.log(INFO, "partition healed");
    }

    /** Every connection through the simulator is cut with a TCP RST, as a link that failed. */
    public void resetAll() {
        tunnels.forEach(Tunnel::reset);
    }

    /** Connections now open through the simulator. */
    public int openTunnels() {
        return tunnels.size();
    }

    @Override
    public void close() {
        stations.values().forEach(Sockets::closeQuietly);
        tunnels.forEach(Tunnel::reset);
    }

    // --- one tunnel: the CONNECT request, then two directions of a simulated link -----------------

    /** A connection through the simulator: from the node that dialed (its node port) to the one it dialed. */
    private record Tunnel(int fromPort, int toPort, Socket client, Socket server) {
        void reset() {
            resetQuietly(client);
            resetQuietly(server);
        }
    }

    private boolean isAcrossTheCut(Tunnel tunnel) {
        Set<Integer> side = cutOff;
        return !side.isEmpty() && stations.containsKey(tunnel.toPort()) && side.contains(tunnel.fromPort()) != side.contains(tunnel.toPort());
    }

    private void tunnel(int fromPort, Socket client) {
        try {
            client.setTcpNoDelay(true);
            InputStream in = client.getInputStream();
            String request = readRequestHead(in);
            String[] line = request.split("\r\n", 2)[0].split(" ");
            int colon = line.length == 3 ? line[1].lastIndexOf(':') : -1;
            if (!line[0].equals("CONNECT") || colon < 0 || !isLoopback(line[1].substring(0, colon))) {
                answer(client, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
                return;
            }
            int toPort = Integer.parseInt(line[1].substring(colon + 1));
            Socket server = new Socket(InetAddress.getLoopbackAddress(), toPort);
            server.setTcpNoDelay(true);
            Tunnel tunnel = new Tunnel(fromPort, toPort, client, server);
            if (cut == Cut.RESET && isAcrossTheCut(tunnel)) {
                tunnel.reset();
                return;
            }
            tunnels.add(tunnel);
            BlockingQueue<Chunk> toServer = new LinkedBlockingQueue<>();
            BlockingQueue<Chunk> toClient = new LinkedBlockingQueue<>();
            byte[] established = "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            toClient.add(new Chunk(System.nanoTime(), established));   // the proxy's own answer: not delayed
            InputStream fromServer = server.getInputStream();
            Thread.ofVirtual().name("link-read").start(() -> read(in, toServer, tunnel));
            Thread.ofVirtual().name("link-read").start(() -> read(fromServer, toClient, tunnel));
            Thread.ofVirtual().name("link-write").start(() -> write(toClient, client, tunnel));
            write(toServer, server, tunnel);
        } catch (IOException | RuntimeException e) {
            Sockets.closeQuietly(client);
        }
    }

    /** Bytes read from one end, and when they may be written to the other (System.nanoTime); no bytes: the end, a FIN. */
    private record Chunk(long dueNanos, byte[] bytes) {
    }

    /** Each chunk read is stamped with when it may be written on: the link's delay, jittered, never before the one before it. */
    private void read(InputStream in, BlockingQueue<Chunk> queue, Tunnel tunnel) {
        long lastDue = 0;
        byte[] buffer = new byte[CHUNK];
        try {
            for (int n; (n = in.read(buffer)) > 0; ) {
                Conditions now = conditions;
                long jitter = now.jitterMs() == 0 ? 0 : ThreadLocalRandom.current().nextLong(-now.jitterMs(), now.jitterMs() + 1);
                long due = Math.max(lastDue, System.nanoTime() + Math.max(0, now.delayMs() + jitter) * 1_000_000L);
                lastDue = due;
                queue.add(new Chunk(due, Arrays.copyOf(buffer, n)));
            }
        } catch (IOException e) {
            // reset, or closed: the end of this direction
        }
        queue.add(new Chunk(0, new byte[0]));   // the end: the writer passes it on as a FIN, after what came before
    }

    private void write(BlockingQueue<Chunk> queue, Socket to, Tunnel tunnel) {
        try {
            OutputStream out = to.getOutputStream();
            while (true) {
                Chunk chunk = queue.take();
                if (chunk.bytes().length == 0) {
                    to.shutdownOutput();
                    break;
                }
                waitUntil(chunk.dueNanos());
                waitWhileCut(tunnel);
                long rate = conditions.bytesPerSecond();
                if (rate > 0) {
                    Thread.sleep(chunk.bytes().length * 1000L / rate);
                }
                out.write(chunk.bytes());
            }
        } catch (IOException | InterruptedException e) {
            tunnel.reset();
        } finally {
            if (tunnel.client().isClosed() || tunnel.server().isClosed()
                    || (tunnel.client().isOutputShutdown() && tunnel.server().isOutputShutdown())) {
                tunnels.remove(tunnel);
                Sockets.closeQuietly(tunnel.client());
                Sockets.closeQuietly(tunnel.server());
            }
        }
    }

    private static void waitUntil(long dueNanos) throws InterruptedException {
        for (long left; (left = dueNanos - System.nanoTime()) > 0; ) {
            Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
        }
    }

    private void waitWhileCut(Tunnel tunnel) throws InterruptedException {
        synchronized (healed) {
            while (isAcrossTheCut(tunnel)) {
                healed.wait(100);
            }
        }
    }

    private static String readRequestHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (head.length() < 8192 && (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n"))) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the connection ended in its CONNECT request");
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static void answer(Socket client, String response) throws IOException {
        client.getOutputStream().write(response.getBytes(StandardCharsets.US_ASCII));
        Sockets.closeAfterLastWord(client, 1_000);
    }

    private static boolean isLoopback(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return bare.equals("localhost") || bare.startsWith("127.") || bare.equals("::1");
    }

    private static void resetQuietly(Socket socket) {
        try {
            socket.setSoLinger(true, 0);   // close() then sends RST, not FIN
        } catch (IOException e) {
            // already closed
        }
        Sockets.closeQuietly(socket);
    }

    /**
     * {@code make network N=10 LINK_DELAY_MS=300} starts one: a station for each node port, on
     * that port plus 10,000 (node-1 on 4001 dials through localhost:14001).
     */
    public static void main(String[] args) throws Exception {
        Flags flags;
        try {
            flags = Flags.parse(args, Set.of("node-ports", "delay-ms", "jitter-ms", "bytes-per-second"));
        } catch (IllegalArgumentException e) {
            System.err.println("link-simulator: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (flags.help() || flags.string("node-ports", "").isEmpty()) {
            System.err.println("usage: LinkSimulator --node-ports 4001,4002,4003 [--delay-ms 300] [--jitter-ms 0] [--bytes-per-second 0]"
                    + "   (a station for each node on its port + 10000; a node dials through it with LINK_PROXY=localhost:PORT)");
            System.exit(flags.help() ? 0 : 2);
        }
        List<Integer> ports = new ArrayList<>();
        for (String port : flags.string("node-ports", "").split(",")) {
            try {
                ports.add(Integer.parseInt(port.trim()));
            } catch (NumberFormatException e) {
                System.err.println("link-simulator: --node-ports takes port numbers separated by commas, got " + Text.abbreviate(port));
                System.exit(2);
            }
        }
        Conditions conditions = new Conditions((int) flags.integer("delay-ms", 0, 0, 60_000),
                (int) flags.integer("jitter-ms", 0, 0, 60_000), flags.integer("bytes-per-second", 0, 0, Long.MAX_VALUE));
        LinkSimulator simulator = start(ports, 10_000, conditions);
        log.log(INFO, "simulating links of " + conditions.delayMs() + " ms (+-" + conditions.jitterMs() + " ms) for nodes on "
                + ports + ", through ports " + ports.stream().map(simulator::stationPort).toList());
        Runtime.getRuntime().addShutdownHook(new Thread(simulator::close));
        Thread.currentThread().join();
    }
}
