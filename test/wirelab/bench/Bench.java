package wirelab.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * {@code make bench}: the figures behind every performance claim in the README. Each figure is
 * measured at least three times after a warm-up and printed as min / median; each run checks
 * its own result (complete output, each transaction stored once on every node) and a wrong result fails the bench.
 * A slow result is only a figure. {@code make bench ARGS="exchange websocket mesh growth catch-up links"} runs a part.
 */
public final class Bench {

    /** One measured figure: every repetition's value, and the target it is held against. */
    record Figure(String name, String unit, double[] values, String target, boolean lowerIsBetter, double targetValue) {
        double min() {
            return Arrays.stream(values).min().orElse(Double.NaN);
        }

        double max() {
            return Arrays.stream(values).max().orElse(Double.NaN);
        }

        double median() {
            double[] sorted = values.clone();
            Arrays.sort(sorted);
            return sorted[sorted.length / 2];
        }

        String verdict() {
            if (Double.isNaN(targetValue)) {
                return "";
            }
            boolean met = lowerIsBetter ? median() <= targetValue : median() >= targetValue;
            return met ? "met" : "MISSED";
        }
    }

    static final List<Figure> figures = new ArrayList<>();
    static final int REPEATS = 3;

    static void record(String name, String unit, double[] values, String target, boolean lowerIsBetter, double targetValue) {
        Figure figure = new Figure(name, unit, values, target, lowerIsBetter, targetValue);
        figures.add(figure);
        System.out.printf(Locale.ROOT, "  %-52s min %10s  median %10s %-8s %s%n", name, format(figure.min()),
                format(figure.median()), unit, target.isEmpty() ? "" : "(target " + target + ": " + figure.verdict() + ")");
    }

    static void record(String name, String unit, double[] values) {
        record(name, unit, values, "", true, Double.NaN);
    }

    /** Fails the bench: a wrong result is never just a figure. */
    static void check(boolean correct, String what) {
        if (!correct) {
            throw new AssertionError("bench result is wrong: " + what);
        }
    }

    static String format(double value) {
        if (value >= 100) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        return String.format(Locale.ROOT, "%.2f", value);
    }

    public static void main(String[] args) throws Exception {
        List<String> parts = args.length == 0 ? List.of("commands", "exchange", "websocket", "mesh", "growth", "mesh-processes", "catch-up", "node-memory", "links") : List.of(args);
        long started = System.nanoTime();
        System.out.println("wirelab bench on " + machine());
        CommandBench.run("make", "-s", "build", "startup-cache");   // so that no timed or started process builds or trains
        if (parts.contains("commands")) {
            CommandBench.run();
        }
        if (parts.contains("exchange")) {
            ExchangeBench.run();
        }
        if (parts.contains("websocket")) {
            WebSocketBench.run();
        }
        if (parts.contains("catch-up")) {
            MeshBench.catchUp();
        }
        if (parts.contains("mesh")) {
            MeshBench.run();
        }
        if (parts.contains("growth")) {
            GrowthBench.run();
        }
        if (parts.contains("mesh-processes")) {
            MeshProcessBench.run();
        }
        if (parts.contains("node-memory")) {
            MeshProcessBench.memory();
        }
        if (parts.contains("links")) {
            LinksBench.run();
        }
        StringBuilder table = new StringBuilder();
        table.append("| figure | min | median | unit | target |\n|---|--:|--:|---|---|\n");
        for (Figure figure : figures) {
            table.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", figure.name(), format(figure.min()),
                    format(figure.median()), figure.unit(),
                    figure.target().isEmpty() ? "" : figure.target() + " (" + figure.verdict() + ")"));
        }
        Files.createDirectories(Path.of("build/bench"));
        Files.writeString(Path.of("build/bench/results.md"), "Machine: " + machine() + "\n\n" + table);
        System.out.println();
        System.out.print(table);
        System.out.printf(Locale.ROOT, "%nall results correct; bench took %.0f s; table in build/bench/results.md%n",
                (System.nanoTime() - started) / 1e9);
    }

    static String machine() {
        String cpu = "unknown cpu";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (Exception e) {
            // not Linux: leave it unknown
        }
        long memoryGiB = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize() >> 30;
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), " + memoryGiB + " GiB, JDK "
                + Runtime.version() + ", " + System.getProperty("os.name") + " " + System.getProperty("os.version");
    }
}
