package wirelab.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import wirelab.exchange.ExchangeServer;
import wirelab.p2p.NodeConfig;
import wirelab.p2p.PeerNode;

/**
 * Whole commands, as users time them: each started as a process, the wall time from start to
 * exit, median of ten, beside the floor (an empty JVM printing its version). And how long a
 * command lives after its work is done: the gap between its last line and its exit.
 */
final class CommandBench {

    private CommandBench() {
    }

    static final int RUNS = 10;

    static void run() throws Exception {
        System.out.println("whole commands");
        Path dir = Files.createTempDirectory("bench-commands");
        String java = Files.readAllLines(Path.of("build/java-flags")).get(0);
        try (ExchangeServer server = ExchangeServer.start(ExchangeServer.Options.original().withPort(0));
             PeerNode node = PeerNode.start(NodeConfig.of(Files.createDirectories(dir.resolve("node")), 0, List.of()))) {
            Files.writeString(dir.resolve("node/.env"), "PORT=" + node.port() + "\n");   // what add-transaction reads
            List<String> client = List.of("make", "-s", "run-client", "ARGS=--port " + server.port() + " --out " + dir.resolve("out.json"));
            List<String> add = List.of("scripts/add-transaction.sh", dir.resolve("node").toString(), "--unsigned");   // as the curriculum's
            List<String> addSigned = List.of("scripts/add-transaction.sh", dir.resolve("node").toString());
            List<String> floor = List.of(java, "-version");
            double[] floorMs = new double[RUNS];
            double[] clientMs = new double[RUNS];
            double[] addMs = new double[RUNS];
            double[] addSignedMs = new double[RUNS];
            double[] afterWorkMs = new double[RUNS];
            for (int i = -1; i < RUNS; i++) {   // -1: a warm-up of each
                double f = run(floor.toArray(String[]::new))[0];
                double[] c = run(client.toArray(String[]::new));
                double a = run(add.toArray(String[]::new))[0];
                double s = run(addSigned.toArray(String[]::new))[0];
                if (i >= 0) {
                    addSignedMs[i] = s;
                    floorMs[i] = f;
                    clientMs[i] = c[0];
                    afterWorkMs[i] = c[1];
                    addMs[i] = a;
                }
            }
            Bench.record("the floor: an empty JVM (java -version)", "ms", floorMs);
            Bench.record("make run-client, the original 14-packet book", "ms", clientMs);
            Bench.record("  the client's last line -> its process gone", "ms", afterWorkMs, "< 50 ms: no exit wait (it was 300)", true, 50);
            Bench.record("  as a multiple of the floor", "x", ratio(clientMs, floorMs));
            Bench.record("scripts/add-transaction.sh --unsigned (as add-transaction.js)", "ms", addMs);
            Bench.record("  as a multiple of the floor", "x", ratio(addMs, floorMs));
            Bench.record("scripts/add-transaction.sh, signed with the folder's wallet", "ms", addSignedMs);
            Bench.record("  signed / unsigned", "x", ratio(addSignedMs, addMs));
        }
    }

    private static double[] ratio(double[] values, double[] floor) {
        double[] ratios = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            ratios[i] = values[i] / floor[i];
        }
        return ratios;
    }

    /** True when {@code program} is an executable file in a folder on the PATH. */
    static boolean onPath(String program) {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(folder, program))) {
                return true;
            }
        }
        return false;
    }

    /** [wall ms from start to exit, ms from the last byte of output to exit]; a failed command fails the bench. */
    static double[] run(String... command) throws IOException, InterruptedException {
        long started = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        long lastOutput = started;
        StringBuilder output = new StringBuilder();
        try (InputStream in = process.getInputStream()) {
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) > 0; ) {
                lastOutput = System.nanoTime();
                output.append(new String(buffer, 0, n, StandardCharsets.UTF_8));
            }
        }
        Bench.check(process.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not end");
        long ended = System.nanoTime();
        Bench.check(process.exitValue() == 0, String.join(" ", command) + " failed: " + output);
        return new double[] {(ended - started) / 1e6, (ended - lastOutput) / 1e6};
    }

}
