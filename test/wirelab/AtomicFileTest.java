package wirelab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {

    @TempDir
    Path dir;

    @Test
    void aNewFileGetsTheUsualPermissionsAndAnOldOneKeepsItsOwn() throws Exception {
        Path usual = Files.createFile(dir.resolve("usual"));   // what the user's umask gives any new file here
        Path fresh = dir.resolve("fresh.json");
        AtomicFile.write(fresh, out -> out.write("1".getBytes(StandardCharsets.UTF_8)));
        assertEquals(Files.getPosixFilePermissions(usual), Files.getPosixFilePermissions(fresh), "not 0600");

        Path shared = dir.resolve("shared.json");
        Files.writeString(shared, "old");
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-rw-r--"));
        AtomicFile.write(shared, out -> out.write("new".getBytes(StandardCharsets.UTF_8)));
        assertEquals("new", Files.readString(shared));
        assertEquals("rw-rw-r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(shared)));
    }

    @Test
    void tempFilesLeftByAKilledWriterAreRemovedAndOthersAreNot() throws Exception {
        Path target = dir.resolve("output.json");
        Path stale = Files.writeString(dir.resolve(".output.json.5b1c0e1e00004000.tmp"), "half");
        Path unrelated = Files.writeString(dir.resolve(".other.json.x.tmp"), "keep");
        AtomicFile.removeStaleTemps(target);
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(unrelated));
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTempFile() throws Exception {
        Path target = Files.writeString(dir.resolve("book.json"), "old");
        try {
            AtomicFile.write(target, out -> {
                out.write("half".getBytes(StandardCharsets.UTF_8));
                throw new java.io.IOException("disk full, say");
            });
        } catch (java.io.IOException expected) {
            // as the content said
        }
        assertEquals("old", Files.readString(target));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only book.json is left");
        }
    }
}
