package wirelab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Set-up where learners are: scripts/find-jdk.sh on fake JDK folders, and no GNU-only commands. */
@Timeout(60)
class SetUpTest {

    @TempDir
    Path dir;

    record Found(int exitCode, String home, String error) {
    }

    /** A folder that looks like a JDK of {@code major}: a release file and a bin/javac that answers -version. */
    private Path fakeJdk(String name, int major) throws IOException {
        Path home = Files.createDirectories(dir.resolve(name).resolve("bin"));
        Files.writeString(home.getParent().resolve("release"), "JAVA_VERSION=\"" + major + ".0.1\"\n");
        Path javac = home.resolve("javac");
        Files.writeString(javac, "#!/bin/sh\necho \"javac " + major + ".0.1\"\n");
        Files.setPosixFilePermissions(javac, PosixFilePermissions.fromString("rwxr-xr-x"));
        return home.getParent();
    }

    private Found findJdk(Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("bash", "scripts/find-jdk.sh");
        builder.environment().clear();
        builder.environment().put("HOME", dir.toString());
        builder.environment().put("PATH", "/usr/bin:/bin");
        builder.environment().put("WIRELAB_JDK_PLACES", dir.resolve("places").toString() + "/*");
        builder.environment().putAll(env);
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes()).trim();
        String err = new String(process.getErrorStream().readAllBytes());
        assertTrue(process.waitFor(30, TimeUnit.SECONDS));
        return new Found(process.exitValue(), out, err);
    }

    @Test
    void anOldJavaHomeIsPassedOverForANewJavacOnThePathEvenThroughASymlink() throws Exception {
        Path old = fakeJdk("old", 17);
        Path fresh = fakeJdk("fresh", 21);
        Path bin = Files.createDirectories(dir.resolve("on-path"));
        Files.createSymbolicLink(bin.resolve("javac"), fresh.resolve("bin/javac"));   // as Homebrew links it
        Found found = findJdk(Map.of("JAVA_HOME", old.toString(), "PATH", bin + ":/usr/bin:/bin"));
        assertEquals(0, found.exitCode(), found.error());
        assertEquals(fresh.toRealPath().toString(), Path.of(found.home()).toRealPath().toString());
    }

    @Test
    void aNewJavaHomeWinsOverEverything() throws Exception {
        Path newest = fakeJdk("newest", 25);
        Path fresh = fakeJdk("fresh", 21);
        Path bin = Files.createDirectories(dir.resolve("on-path"));
        Files.createSymbolicLink(bin.resolve("javac"), fresh.resolve("bin/javac"));
        fakeJdk("places/jdk-26", 26);
        Found found = findJdk(Map.of("JAVA_HOME", newest.toString(), "PATH", bin + ":/usr/bin:/bin"));
        assertEquals(newest.toString(), found.home());
    }

    @Test
    void withoutJavaHomeOrJavacTheNewestInTheUsualPlacesWins() throws Exception {
        fakeJdk("places/jdk-21", 21);
        Path newest = fakeJdk("places/jdk-24", 24);
        fakeJdk("places/jdk-17", 17);
        assertEquals(newest.toString(), findJdk(Map.of()).home());
    }

    @Test
    void whenNoneFitsTheErrorNamesWhatItSawAndHowToInstallOne() throws Exception {
        Path old = fakeJdk("old", 17);
        fakeJdk("places/jdk-11", 11);
        Found found = findJdk(Map.of("JAVA_HOME", old.toString()));
        assertEquals(1, found.exitCode());
        assertEquals("", found.home());
        assertTrue(found.error().contains("JAVA_HOME: " + old + " is JDK 17, too old"), found.error());
        assertTrue(found.error().contains("PATH: no javac") || found.error().contains("javac on the PATH: "), found.error());
        assertTrue(found.error().contains("jdk-11 is JDK 11, too old"), found.error());
        for (String way : List.of("Ubuntu 24.04, Debian 13:  sudo apt-get install openjdk-21-jdk-headless",
                "Debian 12 (its archive stops at JDK 17)", "apt-get install temurin-21-jdk", "-C ~",
                "sdk install java 21-tem", "dnf install java-21-openjdk-devel", "brew install openjdk@21")) {
            assertTrue(found.error().contains(way), "the error names " + way + ": " + found.error());
        }
    }

    /** Debian 12 has no JDK 21 package: a tarball unpacked in the home folder, as it comes, is found without JAVA_HOME. */
    @Test
    void aJdkTarballUnpackedInTheHomeFolderIsFound() throws Exception {
        Path unpacked = fakeJdk("jdk-99.0.1+11", 99);   // dir is HOME here: what `tar -xzf ... -C ~` leaves
        Found found = findJdk(Map.of("WIRELAB_JDK_PLACES", ""));   // the usual places, not the test's
        assertEquals(0, found.exitCode(), found.error());
        assertEquals(unpacked.toString(), found.home());
    }

    /** Forms that work with GNU tools and bash 4 but not on macOS (BSD tools, bash 3.2). */
    private static final List<Pattern> NOT_PORTABLE = List.of(
            Pattern.compile("cp --parents"), Pattern.compile("\\bsed -i(\\s|$)"), Pattern.compile("readlink -f"),
            Pattern.compile("(^|[;&|(]\\s*|\\s)timeout \\d"), Pattern.compile("stat -c"), Pattern.compile("grep -P"),
            Pattern.compile("xargs -r"), Pattern.compile("find [^#]*-printf"), Pattern.compile("\\b(mapfile|readarray)\\b"),
            Pattern.compile("declare -A"), Pattern.compile("\\$\\{\\w+(,,|\\^\\^)}"), Pattern.compile("date \\+%s%N"));

    @Test
    void theMakefileAndScriptsUseNoGnuOnlyFormsAndGuardProc() throws IOException {
        List<Path> files = new ArrayList<>(List.of(Path.of("Makefile")));
        try (var scripts = Files.list(Path.of("scripts"))) {
            scripts.filter(p -> p.toString().endsWith(".sh")).forEach(files::add);
        }
        List<String> problems = new ArrayList<>();
        for (Path file : files) {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                String code = lines.get(i).replaceFirst("(^|\\s)#.*$", "");   // comments may name what they avoid
                for (Pattern pattern : NOT_PORTABLE) {
                    if (pattern.matcher(code).find()) {
                        problems.add(file + ":" + (i + 1) + ": " + pattern + ": " + lines.get(i).trim());
                    }
                }
                if (code.contains("/proc/") && !guardedByProcCheck(lines, i)) {
                    problems.add(file + ":" + (i + 1) + ": /proc without a guard: " + lines.get(i).trim());
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /** A use of /proc is guarded when it, or one of the three lines before it, tests that /proc is there. */
    private static boolean guardedByProcCheck(List<String> lines, int index) {
        for (int i = Math.max(0, index - 3); i <= index; i++) {
            if (lines.get(i).matches(".*\\[ -[rde] \"?/proc.*")) {
                return true;
            }
        }
        return false;
    }
}
