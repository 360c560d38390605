package wirelab.bench;

import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.gson.stream.JsonReader;

import wirelab.exchange.ClientSummary;
import wirelab.exchange.ExchangeClient;
import wirelab.exchange.ExchangeServer;
import wirelab.exchange.Packet;

/** The exchange's figures: concurrent gap recovery, a million packets to JSON, 10,000 clients. */
final class ExchangeBench {

    private ExchangeBench() {
    }

    static void run() throws Exception {
        System.out.println("exchange");
        gapRecovery();
        streamToJson();
        load();
    }

    // --- 1. gap recovery: all at once against one at a time --------------------------------

    static void gapRecovery() throws Exception {
        Path out = Files.createTempFile("bench-gaps", ".json");
        List<Packet> book = ExchangeServer.generatedBook(127);
        try (ExchangeServer server = ExchangeServer.start(ExchangeServer.Options.original().withPort(0)
                .withPackets(127).withDrops(0.4, 11L).withDelayMs(50))) {
            ExchangeClient.Options options = ExchangeClient.Options.defaults().withServer(server.port()).withOut(out)
                    .withTimeout(10_000, 2);
            recoverOnce(options, book, out);   // warm-up
            double[] concurrent = new double[Bench.REPEATS];
            double[] oneStream = new double[Bench.REPEATS];
            double[] sequential = new double[Bench.REPEATS];
            double[] speedUp = new double[Bench.REPEATS];
            int missing = 0;
            for (int i = 0; i < Bench.REPEATS; i++) {
                ClientSummary all = recoverOnce(options, book, out);
                ClientSummary single = recoverOnce(options.withStreams(1), book, out);
                ClientSummary one = recoverOnce(options.withConcurrency(1), book, out);
                missing = all.missing();
                concurrent[i] = all.recoveryMs();
                oneStream[i] = single.recoveryMs();
                sequential[i] = one.recoveryMs();
                speedUp[i] = sequential[i] / concurrent[i];
            }
            Bench.record("gap recovery, " + missing + " of 127 missing, 50 ms/response: all at once",
                    "ms", concurrent, "<= 75 ms (1.5 x one delay)", true, 75);
            Bench.record("gap recovery, same gaps, one stream (--streams 1)", "ms", oneStream);
            Bench.record("gap recovery, same gaps, --concurrency 1", "ms", sequential);
            Bench.record("speed-up of all-at-once over one-at-a-time", "x", speedUp);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static ClientSummary recoverOnce(ExchangeClient.Options options, List<Packet> book, Path out)
            throws Exception {
        ClientSummary summary = new ExchangeClient(options).run();
        Bench.check(summary.missing() > 0 && summary.recovered() == summary.missing(), "every gap recovered: " + summary);
        checkOutput(out, book.size());
        return summary;
    }

    // --- 2. a million packets, stream to a complete JSON file -------------------------------

    static void streamToJson() throws Exception {
        int packets = 1_000_000;
        Path out = Files.createTempFile("bench-million", ".json");
        try (ExchangeServer server = ExchangeServer.start(ExchangeServer.Options.original().withPort(0)
                .withPackets(packets).withDrops(0, null))) {
            ExchangeClient.Options options = ExchangeClient.Options.defaults().withServer(server.port()).withOut(out)
                    .withTimeout(60_000, 0);
            new ExchangeClient(options).run();   // warm-up
            double[] seconds = new double[Bench.REPEATS];
            double[] fiveStreams = new double[Bench.REPEATS];
            double[] packetsPerSecond = new double[Bench.REPEATS];
            double[] megabytesPerSecond = new double[Bench.REPEATS];
            for (int i = 0; i < Bench.REPEATS; i++) {
                long started = System.nanoTime();
                new ExchangeClient(options.withStreams(1)).run();
                seconds[i] = (System.nanoTime() - started) / 1e9;
                checkOutput(out, packets);
                packetsPerSecond[i] = packets / seconds[i];
                megabytesPerSecond[i] = Files.size(out) / 1e6 / seconds[i];
                started = System.nanoTime();
                new ExchangeClient(options).run();
                fiveStreams[i] = (System.nanoTime() - started) / 1e9;
                checkOutput(out, packets);
            }
            Bench.record("1,000,000 packets, one stream: connect -> complete output.json", "s", seconds, "< 1 s", true, 1.0);
            Bench.record("  packets per second", "pkt/s", packetsPerSecond);
            Bench.record("  JSON written per second (" + Files.size(out) / 1_000_000 + " MB file)", "MB/s", megabytesPerSecond);
            Bench.record("  the same with the default five streams (four closed unread: stream 1 dropped nothing)", "s", fiveStreams);
            wholeProcesses(server.port(), out, packets);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /**
     * The million packets as users run them: {@code make run-client} as a whole process, with its
     * defaults and with {@code --streams 1}, alternated with a seed-style Node client when one is
     * given. That client is not part of this project (which stays Java): write it in a scratch
     * folder (one stream, highest seen = last, resends one at a time, writeFileSync) and name it
     * in {@code BENCH_NODE_CLIENT}; it is run as {@code node FILE PORT OUT}.
     */
    private static void wholeProcesses(int port, Path out, int packets) throws Exception {
        String nodeClient = System.getenv("BENCH_NODE_CLIENT");
        boolean withNode = nodeClient != null && Files.exists(Path.of(nodeClient)) && CommandBench.onPath("node");
        List<String> defaults = List.of("make", "-s", "run-client", "ARGS=--port " + port + " --out " + out);
        List<String> oneStream = List.of("make", "-s", "run-client", "ARGS=--port " + port + " --streams 1 --out " + out);
        Path nodeOut = Files.createTempFile("bench-million-node", ".json");
        List<String> node = List.of("node", String.valueOf(nodeClient), String.valueOf(port), nodeOut.toString());
        int runs = 5;
        double[] ours = new double[runs];
        double[] ours1 = new double[runs];
        double[] theirs = new double[runs];
        double[] ratio = new double[runs];
        try {
            for (int i = -1; i < runs; i++) {   // -1: a warm-up of each
                double a = CommandBench.run(defaults.toArray(String[]::new))[0];
                checkOutput(out, packets);
                double b = CommandBench.run(oneStream.toArray(String[]::new))[0];
                double c = withNode ? CommandBench.run(node.toArray(String[]::new))[0] : Double.NaN;
                if (i >= 0) {
                    ours[i] = a;
                    ours1[i] = b;
                    theirs[i] = c;
                    ratio[i] = c / a;
                }
            }
        } finally {
            Files.deleteIfExists(nodeOut);
        }
        Bench.record("make run-client, 1,000,000 packets, defaults (whole process)", "ms", ours);
        Bench.record("  the same with --streams 1", "ms", ours1);
        if (withNode) {
            Bench.record("  seed-style Node client, the same book", "ms", theirs);
            Bench.record("  speed: Node's time / ours, pair by pair", "x", ratio, ">= 1.5", false, 1.5);
        } else {
            System.out.println("  (no Node comparison: set BENCH_NODE_CLIENT to a seed-style client, with node on the PATH)");
        }
    }

    /** Reads the whole output back: sequences 1..n in order, each packet as the generated book has it. */
    static void checkOutput(Path out, int packets) throws IOException {
        List<Packet> book = ExchangeServer.generatedBook(packets);
        try (Reader file = Files.newBufferedReader(out); JsonReader json = new JsonReader(file)) {
            json.beginArray();
            for (int i = 0; i < packets; i++) {
                json.beginObject();
                json.nextName();
                String symbol = json.nextString();
                json.nextName();
                char indicator = json.nextString().charAt(0);
                json.nextName();
                int quantity = json.nextInt();
                json.nextName();
                int price = json.nextInt();
                json.nextName();
                int sequence = json.nextInt();
                json.endObject();
                Bench.check(book.get(i).equals(new Packet(symbol, indicator, quantity, price, sequence)),
                        "entry " + i + " of the output differs from the book");
            }
            json.endArray();
        }
    }

    // --- 3. load: 10,000 concurrent clients against the server process ------------------------

    /**
     * Three rounds of 10,000 concurrent clients after a warm-up, against the server as make
     * run-server starts it. Its peak resident memory moves from one process to the next with
     * how far the collector lets the heap run before a collection, so the rounds are run
     * against three server processes in turn, each followed by the same rounds against the Node
     * stand-in for main.js when one is named, and the ratio is taken pair by pair.
     */
    static void load() throws Exception {
        int clients = 10_000;
        int rounds = Bench.REPEATS * Bench.REPEATS;
        double[] errors = new double[rounds];
        double[] wall = new double[rounds];
        double[] p50 = new double[rounds];
        double[] p99 = new double[rounds];
        double[] threads = new double[rounds];
        double[] oursMb = new double[Bench.REPEATS];
        double[] heapBeforeGc = new double[Bench.REPEATS];
        double[] heapAfterGc = new double[Bench.REPEATS];
        String standIn = nodeStandIn();
        double[] theirErrors = new double[rounds];
        double[] theirsMb = new double[Bench.REPEATS];
        double[] ratio = new double[Bench.REPEATS];
        Path gcLog = Path.of("build/bench/server-gc.log").toAbsolutePath();   // each server process writes it anew
        for (int run = 0; run < Bench.REPEATS; run++) {
            int port = freePort();
            Process server = startServer(gcLog, port);
            try {
                awaitListening(port);
                loadOnce(port, 1_000, server.pid(), true);   // warm-up
                for (int round = 0; round < Bench.REPEATS; round++) {
                    double[] result = loadOnce(port, clients, server.pid(), true);
                    int i = run * Bench.REPEATS + round;
                    errors[i] = result[0];
                    wall[i] = result[1];
                    p50[i] = result[2];
                    p99[i] = result[3];
                    threads[i] = result[4];
                }
                oursMb[run] = procStatusKb(server.pid(), "VmHWM") / 1024.0;
                double[] heap = peakHeapFromGcLog(gcLog);
                heapBeforeGc[run] = heap[0];
                heapAfterGc[run] = heap[1];
            } finally {
                server.destroy();
                server.waitFor();
            }
            if (standIn != null) {
                theirsMb[run] = standInPeakMb(standIn, clients, theirErrors, run * Bench.REPEATS);
                ratio[run] = oursMb[run] / theirsMb[run];
            }
        }
        Bench.record("10,000 concurrent clients: errors", "errors", errors, "0", true, 0);
        Bench.record("  wall time for all 10,000 streams", "ms", wall);
        Bench.record("  per-client time, p50", "ms", p50);
        Bench.record("  per-client time, p99", "ms", p99);
        Bench.record("  server OS threads at peak (virtual threads are not OS threads)", "threads", threads);
        Bench.record("  server resident memory at peak, over one process's rounds (VmHWM)", "MB", oursMb);
        Bench.record("  server heap at peak, before GC", "MB", heapBeforeGc);
        Bench.record("  server heap at peak, live after GC", "MB", heapAfterGc);
        if (standIn == null) {
            System.out.println("  (no Node comparison: set BENCH_NODE_SERVER to a stand-in for main.js, with node on the PATH)");
            return;
        }
        Bench.record("  Node stand-in for main.js, the same rounds: errors", "errors", theirErrors, "0", true, 0);
        Bench.record("  Node stand-in: resident memory at peak (VmHWM)", "MB", theirsMb);
        Bench.record("  memory: ours / Node's, process by process", "x", ratio, "<= 1.2", true, 1.2);
    }

    /**
     * The server in its own JVM, started as make run-server starts it (the JVM flags of
     * build/java-flags, the server's own, its start-up cache); its peak resident memory comes
     * from /proc.
     */
    private static Process startServer(Path gcLog, int port) throws IOException {
        Files.createDirectories(gcLog.getParent());
        Path quietLogging = Path.of("test/wirelab/bench/logging.properties").toAbsolutePath();
        List<String> command = new ArrayList<>(Files.readAllLines(Path.of("build/java-flags")));
        Path ownFlags = Path.of("build/java-flags-ExchangeServer");
        if (Files.exists(ownFlags)) {
            command.addAll(Files.readAllLines(ownFlags));
        }
        if (Files.exists(Path.of("build/startup/ExchangeServer.aot"))) {
            command.addAll(List.of("-XX:AOTCache=build/startup/ExchangeServer.aot", "-Xlog:aot=off", "-Xlog:cds=off"));
        }
        command.addAll(List.of("-Xlog:gc:file=" + gcLog, "-Djava.util.logging.config.file=" + quietLogging,
                "wirelab.exchange.ExchangeServer", "--port", String.valueOf(port), "--drop", "0.25"));
        return new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(gcLog.resolveSibling("server.out").toFile()).start();
    }

    /**
     * The Node stand-in for main.js, when one is given: like the seed-style client, it is not
     * part of this project; write it in a scratch folder (the book and behaviour of
     * ../shared/REFERENCE.md, net.createServer, one write per packet) and name it in
     * {@code BENCH_NODE_SERVER}; it is run as {@code node FILE PORT}. null when there is none.
     */
    private static String nodeStandIn() {
        String standIn = System.getenv("BENCH_NODE_SERVER");
        return standIn != null && Files.exists(Path.of(standIn)) && CommandBench.onPath("node") ? standIn : null;
    }

    /**
     * The same warm-up and rounds against one process of the Node stand-in: its peak resident
     * memory, its errors put in {@code errors} from {@code first} on. It may drop the last
     * packet, as the original does, so its streams are checked for whole packets in order only.
     */
    private static double standInPeakMb(String standIn, int clients, double[] errors, int first) throws Exception {
        int port = freePort();
        Process node = new ProcessBuilder("node", standIn, String.valueOf(port)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            awaitListening(port);
            loadOnce(port, 1_000, node.pid(), false);   // warm-up, as ours had
            for (int round = 0; round < Bench.REPEATS; round++) {
                errors[first + round] = loadOnce(port, clients, node.pid(), false)[0];
            }
            return procStatusKb(node.pid(), "VmHWM") / 1024.0;
        } finally {
            node.destroy();
            node.waitFor();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket probe = new ServerSocket(0)) {
            return probe.getLocalPort();
        }
    }

    /**
     * [errors, wall ms, p50 ms, p99 ms, peak server OS threads]; {@code lastAlwaysSent}: each
     * stream must end with packet 14, as ours always does (the original may drop it).
     */
    private static double[] loadOnce(int port, int clients, long serverPid, boolean lastAlwaysSent) throws Exception {
        List<Packet> book = ExchangeServer.ORIGINAL_BOOK;
        ConcurrentLinkedQueue<Long> timesNanos = new ConcurrentLinkedQueue<>();
        AtomicInteger errors = new AtomicInteger();
        AtomicReference<String> firstError = new AtomicReference<>();
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger peakThreads = new AtomicInteger();
        Thread sampler = Thread.ofVirtual().start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peakThreads.accumulateAndGet((int) procStatusKb(serverPid, "Threads"), Math::max);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long started;
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < clients; i++) {
                executor.submit(() -> {
                    go.await();
                    long begin = System.nanoTime();
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress("127.0.0.1", port), 60_000);
                        socket.setSoTimeout(60_000);
                        socket.getOutputStream().write(Packet.Request.streamAllPackets().encode());
                        byte[] stream = socket.getInputStream().readAllBytes();
                        Bench.check(stream.length % Packet.SIZE == 0 && stream.length > 0, "whole packets");
                        int last = 0;
                        for (int offset = 0; offset < stream.length; offset += Packet.SIZE) {
                            Packet packet = Packet.decode(stream, offset, offset);
                            Bench.check(packet.equals(book.get(packet.sequence() - 1)) && packet.sequence() > last, "packet order and values");
                            last = packet.sequence();
                        }
                        Bench.check(last == 14 || !lastAlwaysSent, "the last packet is 14");
                        timesNanos.add(System.nanoTime() - begin);
                    } catch (Exception | AssertionError e) {
                        errors.incrementAndGet();
                        firstError.compareAndSet(null, e.toString());
                    }
                    return null;
                });
            }
            started = System.nanoTime();
            go.countDown();
        }
        double wallMs = (System.nanoTime() - started) / 1e6;
        sampler.interrupt();
        if (errors.get() > 0) {
            System.out.println("    " + errors.get() + " client errors, the first: " + firstError.get());
        }
        long[] sorted = timesNanos.stream().mapToLong(Long::longValue).sorted().toArray();
        return new double[] {errors.get(), wallMs, percentile(sorted, 0.50), percentile(sorted, 0.99), peakThreads.get()};
    }

    private static double percentile(long[] sortedNanos, double p) {
        if (sortedNanos.length == 0) {
            return Double.NaN;
        }
        return sortedNanos[(int) Math.min(sortedNanos.length - 1, Math.floor(p * sortedNanos.length))] / 1e6;
    }

    /** The number in a "Name:   1234 kB" line of /proc/PID/status (Linux); 0 when there is none. */
    static long procStatusKb(long pid, String name) {
        return procKb(pid, "status", name);
    }

    /** The number in a "Name:   1234 kB" line of /proc/PID/FILE (status, smaps_rollup; Linux); 0 when there is none. */
    static long procKb(long pid, String file, String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/" + file))) {
                if (line.startsWith(name + ":")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // the process is gone or this is not Linux
        }
        return 0;
    }

    /** [peak heap before a collection, peak heap after one] in MB, from -Xlog:gc lines "45M->12M(256M)". */
    private static double[] peakHeapFromGcLog(Path gcLog) throws IOException {
        Matcher matcher = Pattern.compile("(\\d+)M->(\\d+)M\\(").matcher(Files.readString(gcLog));
        double before = 0;
        double after = 0;
        while (matcher.find()) {
            before = Math.max(before, Double.parseDouble(matcher.group(1)));
            after = Math.max(after, Double.parseDouble(matcher.group(2)));
        }
        return new double[] {before, after};
    }

    private static void awaitListening(int port) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            try {
                new Socket("127.0.0.1", port).close();
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        throw new AssertionError("the server process did not listen on " + port + " within 10 s");
    }
}
