package wirelab;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Replacing a file so that a reader, or a crash at any moment, sees the old file or the new
 * one, never half of one, the way SQLite and PostgreSQL make a write durable:
 *
 * <ol>
 * <li>write a temp file beside it ({@code .NAME.<random>.tmp}), created with the usual
 *     permissions (those the old file had, or the user's default for a new one);
 * <li>force it to disk;
 * <li>rename it over the old one, in one atomic step;
 * <li>force the directory to disk, so the rename itself survives a power cut.
 * </ol>
 *
 * A process killed between steps 1 and 3 leaves its temp file behind; {@link #removeStaleTemps}
 * clears those at the next start. The client's output.json is written this way, and a node's
 * transactions.json when it is written whole; a wallet's keys with {@link #writeSecret}, whose
 * temp file is its owner's alone from the start.
 */
public final class AtomicFile {

    /** What goes into the file; it may close the stream it is given. */
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    private AtomicFile() {
    }

    public static void write(Path file, Content content) throws IOException {
        write(file, content, false);
    }

    /**
     * The same for a secret (a private key): the temp file is created readable and writable by
     * its owner alone (mode 600, where the file system has POSIX permissions), so the secret is
     * never readable by others, not even before the rename.
     */
    public static void writeSecret(Path file, Content content) throws IOException {
        write(file, content, true);
    }

    private static void write(Path file, Content content, boolean secret) throws IOException {
        Path target = file.toAbsolutePath();
        Path directory = target.getParent();
        // A random name, not a secure one: CREATE_NEW below refuses a clash. (UUID.randomUUID would
        // seed SecureRandom first, 20-odd ms of a short command's start-up.)
        Path temp = directory.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        try {
            try (OutputStream out = Channels.newOutputStream(create(temp, secret))) {
                content.writeTo(out);
            }
            keepPermissions(target, temp);
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                channel.force(true);   // on disk before the rename makes it the file
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            forceDirectory(directory);
        } finally {
            Files.deleteIfExists(temp);   // only still there when something failed
        }
    }

    /** A new file (never one that exists), owner-only when {@code secret} and the file system can say so. */
    private static FileChannel create(Path temp, boolean secret) throws IOException {
        Set<StandardOpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        if (secret && Files.getFileAttributeView(temp.getParent(), PosixFileAttributeView.class) != null) {
            return FileChannel.open(temp, options, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        return FileChannel.open(temp, options);
    }

    /** Deletes temp files of {@code file} that a killed process left behind. */
    public static void removeStaleTemps(Path file) throws IOException {
        Path target = file.toAbsolutePath();
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(target.getParent(), "." + target.getFileName() + ".*.tmp")) {
            for (Path temp : temps) {
                Files.deleteIfExists(temp);
            }
        }
    }

    /** A file that existed keeps its permissions: a user who made output.json readable by others expects it to stay so. */
    private static void keepPermissions(Path target, Path temp) throws IOException {
        PosixFileAttributeView targetView = Files.getFileAttributeView(target, PosixFileAttributeView.class);
        if (targetView != null && Files.exists(target)) {
            Files.getFileAttributeView(temp, PosixFileAttributeView.class).setPermissions(targetView.readAttributes().permissions());
        }
    }

    /** fsync of the directory: the rename is an entry in it. Not every system lets a directory be opened this way. */
    private static void forceDirectory(Path directory) throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (FileSystemException | UnsupportedOperationException e) {
            // such a system (Windows) makes the rename durable by itself, or offers no way to ask
        }
    }
}
