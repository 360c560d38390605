package wirelab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wirelab.exchange.ExchangeServer;

/**
 * The commands the README shows, run as a user runs them: separate processes, exit codes,
 * what they print. Run from the repository root, as `make test` does.
 */
@Timeout(120)
class CommandLineTest {

    @TempDir
    Path dir;

    record Run(int exitCode, String stdout, String stderr) {
    }

    /** Runs {@code command} to completion (at most 60 s), with {@code env} added. */
    private Run run(Map<String, String> env, String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().putAll(env);
        Path out = dir.resolve("stdout-" + System.nanoTime());
        Path err = dir.resolve("stderr-" + System.nanoTime());
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within 60 s");
        }
        return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private Run java(String mainClass, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(javaBinary(), "-cp", Files.readString(Path.of("build/classpath")).trim(),
                mainClass));
        command.addAll(List.of(args));
        return run(Map.of(), command.toArray(String[]::new));
    }

    private static String javaBinary() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    @Test
    void everyEntryPointPrintsItsUsageOnHelp() throws Exception {
        for (String main : List.of("wirelab.exchange.ExchangeServer", "wirelab.exchange.ExchangeClient",
                "wirelab.p2p.PeerNode", "wirelab.p2p.AddTransaction")) {
            Run help = java(main, "--help");
            assertEquals(0, help.exitCode(), main + ": " + help);
            assertTrue((help.stdout() + help.stderr()).contains("usage:"), main + ": " + help);
        }
    }

    @Test
    void badFlagsExitWith2AndSayWhatWasExpected() throws Exception {
        Run server = java("wirelab.exchange.ExchangeServer", "--port", "abc");
        assertEquals(2, server.exitCode());
        assertTrue(server.stderr().contains("--port must be a whole number, got 'abc'"), server.stderr());
        Run client = java("wirelab.exchange.ExchangeClient", "--drop", "0.5");
        assertEquals(2, client.exitCode());
        assertTrue(client.stderr().contains("unknown argument '--drop'"), client.stderr());
    }

    @Test
    void theClientExits0WithACompleteOutputAnd1NamingWhatIsMissing() throws Exception {
        Path output = dir.resolve("book.json");
        try (ExchangeServer server = ExchangeServer.start(ExchangeServer.Options.original().withPort(0).withDrops(0.5, 9L))) {
            Run ok = java("wirelab.exchange.ExchangeClient", "--port", String.valueOf(server.port()), "--out", output.toString());
            assertEquals(0, ok.exitCode(), ok.toString());
            assertTrue(ok.stdout().matches("(?s)received \\d+ in 5 streams, \\d+ missing, \\d+ recovered, 0 retries, .*"
                    + "; the last sequence seen, 14, came in 5 of 5 streams; a sequence 15 would have had to be dropped by all 5: "
                    + "at the drop rate seen \\(0\\.\\d\\d\\), a \\d\\.\\d % chance; wrote .*book.json\\s*"), ok.stdout());
            assertTrue(Files.readString(output).contains("\"sequence\": 14"));
        }
        int closedPort;
        try (ExchangeServer server = ExchangeServer.start(ExchangeServer.Options.original().withPort(0))) {
            closedPort = server.port();
        }
        Run failed = java("wirelab.exchange.ExchangeClient", "--port", String.valueOf(closedPort), "--out",
                dir.resolve("none.json").toString());
        assertEquals(1, failed.exitCode(), failed.toString());
        assertTrue(failed.stderr().contains("cannot connect to 127.0.0.1:" + closedPort), failed.stderr());
        assertTrue(failed.stdout().contains("wrote nothing"), failed.stdout());
        assertFalse(Files.exists(dir.resolve("none.json")));
    }

    @Test
    void theMakeTargetsPassArgsThrough() throws Exception {
        Run server = run(Map.of(), "make", "-s", "run-server", "ARGS=--help");
        assertEquals(0, server.exitCode(), server.toString());
        assertTrue(server.stdout().contains("usage: make run-server"), server.stdout());
        Run client = run(Map.of(), "make", "-s", "run-client", "ARGS=--help");
        assertEquals(0, client.exitCode(), client.toString());
        assertTrue(client.stdout().contains("exit status: 0 the output is complete"), client.stdout());
    }

    @Test
    void makeDemoRunsBothEndsAndLeavesNothingRunning() throws Exception {
        Run demo = run(Map.of(), "make", "-s", "demo");
        assertEquals(0, demo.exitCode(), demo.toString());
        assertTrue(demo.stdout().contains(" recovered, "), demo.stdout());
        assertTrue(demo.stdout().contains("\"sequence\": 1"), demo.stdout());
        String pid = demo.stdout().replaceAll("(?s).*server pid (\\d+).*", "$1");
        assertFalse(ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false),
                "the demo's server (pid " + pid + ") is still running");
    }

    @Test
    void cloneNodeMakesTheCurriculumsFoldersAndDeleteNodesKeepsNode1() throws Exception {
        Map<String, String> env = Map.of("WIRELAB_NODES", dir.resolve("nodes").toString());
        assertEquals(dir.resolve("nodes/node-1").toString(), run(env, "scripts/clone-node.sh").stdout().trim());
        assertEquals(dir.resolve("nodes/node-2").toString(), run(env, "scripts/clone-node.sh").stdout().trim());
        assertEquals(dir.resolve("nodes/node-3").toString(), run(env, "scripts/clone-node.sh").stdout().trim());
        assertEquals("PORT=4003\n", Files.readString(dir.resolve("nodes/node-3/.env")));
        assertEquals("[\"ws://localhost:4001\",\"ws://localhost:4003\"]\n",
                Files.readString(dir.resolve("nodes/node-2/known-peers.json")));
        Run delete = run(env, "scripts/delete-nodes.sh");
        assertEquals(0, delete.exitCode(), delete.toString());
        try (var folders = Files.list(dir.resolve("nodes"))) {
            assertEquals(List.of(dir.resolve("nodes/node-1")), folders.toList());
        }
    }

    @Test
    void scriptsSayHowToUseThemWhenCalledWrong() throws Exception {
        for (String script : List.of("scripts/run-node.sh", "scripts/add-transaction.sh")) {
            Run wrong = run(Map.of(), script);
            assertEquals(2, wrong.exitCode(), script);
            assertTrue(wrong.stderr().startsWith("usage: " + script), wrong.stderr());
        }
        Run missing = run(Map.of(), "scripts/run-node.sh", dir.resolve("no-such-node").toString());
        assertEquals(1, missing.exitCode());
        assertTrue(missing.stderr().contains("no node folder"), missing.stderr());
    }
}
