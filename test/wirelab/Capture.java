package wirelab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * A capture of loopback traffic, made by a test as scripts/capture.sh makes one (dumpcap, which
 * comes with tshark), and read back through tshark with scripts/wireshark/wirelab.lua. Where
 * tshark is missing or this user may not capture, the test is skipped and says why.
 */
public final class Capture implements AutoCloseable {

    public static final Path DISSECTOR = Path.of("scripts/wireshark/wirelab.lua").toAbsolutePath();

    private final Path file;
    private final Process dumpcap;

    private Capture(Path file, Process dumpcap) {
        this.file = file;
        this.dumpcap = dumpcap;
    }

    /** Starts capturing what matches {@code filter} (libpcap's syntax) into {@code file}; returns once packets are being taken. */
    public static Capture start(Path file, String filter) throws IOException, InterruptedException {
        Assumptions.assumeTrue(onPath("tshark") && onPath("dumpcap"),
                "tshark and dumpcap are not installed (Debian/Ubuntu: apt-get install tshark); .ci/run installs them");
        Path log = file.resolveSibling(file.getFileName() + ".log");
        Process dumpcap = new ProcessBuilder("dumpcap", "-q", "-i", "lo", "-f", filter, "-w", file.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        // dumpcap says "Capturing on" before it knows it may: it is capturing once the file has begun
        while (!(Files.readString(log).contains("Capturing on") && Files.exists(file) && Files.size(file) > 0 && dumpcap.isAlive())) {
            if (!dumpcap.isAlive()) {
                Assumptions.abort("this user may not capture on lo (run as root, or join the wireshark group): "
                        + Files.readString(log).strip());
            }
            if (System.nanoTime() > deadline) {
                dumpcap.destroyForcibly();
                throw new AssertionError("dumpcap did not start capturing within 10 s: " + Files.readString(log));
            }
            Thread.sleep(20);
        }
        return new Capture(file, dumpcap);
    }

    /**
     * Stops capturing. dumpcap takes packets from the kernel in batches a quarter second apart,
     * and a stop drops the batch not yet taken; so it is given a second first.
     */
    @Override
    public void close() {
        if (!dumpcap.isAlive()) {
            return;
        }
        try {
            Thread.sleep(1_000);
            dumpcap.destroy();   // SIGTERM: dumpcap finishes the file
            if (dumpcap.waitFor(10, TimeUnit.SECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // the test is being stopped
        }
        dumpcap.destroyForcibly();
    }

    /**
     * The capture as tshark decodes it with our dissector: one row a frame that {@code displayFilter}
     * keeps, one column a field, a field that occurs several times in a frame (several packets in
     * one segment) as its values joined by commas, in order.
     */
    public List<List<String>> fields(List<String> preferences, String displayFilter, String... fieldNames)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("tshark", "-n", "-r", file.toString(), "-X", "lua_script:" + DISSECTOR));
        for (String preference : preferences) {
            command.addAll(List.of("-o", preference));
        }
        command.addAll(List.of("-Y", displayFilter, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"));
        for (String name : fieldNames) {
            command.addAll(List.of("-e", name));
        }
        List<List<String>> rows = new ArrayList<>();
        for (String line : tshark(command).split("\n")) {
            if (!line.isEmpty()) {
                rows.add(List.of(line.split("\t", -1)));
            }
        }
        return rows;
    }

    /** tshark's whole answer; an AssertionError with its output when it fails, the dissector's Lua errors included. */
    public static String tshark(List<String> command) throws IOException, InterruptedException {
        Process tshark = new ProcessBuilder(command).redirectErrorStream(false).start();
        byte[] out = tshark.getInputStream().readAllBytes();
        String err = new String(tshark.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!tshark.waitFor(60, TimeUnit.SECONDS) || tshark.exitValue() != 0 || err.contains("Lua")) {
            throw new AssertionError("tshark " + String.join(" ", command) + " failed: " + err);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (text.contains("Lua Error")) {
            throw new AssertionError("the dissector failed: " + text);
        }
        return text;
    }

    private static boolean onPath(String program) {
        for (String folder : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(folder, program))) {
                return true;
            }
        }
        return false;
    }
}
