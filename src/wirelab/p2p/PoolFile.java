package wirelab.p2p;

import static java.lang.System.Logger.Level.WARNING;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import wirelab.AtomicFile;
import wirelab.Text;

/**
 * The layout of {@code transactions.json}, stated here once, and how {@link TransactionPool}
 * reads it at start: as a stream, a line at a time, never the whole file at once.
 *
 * <pre>
 * [                                                   "[\n"
 * {"id":"tx-1","from":"alice","to":"bob","amount":5}, a transaction a line, as JSON's
 * {"from":"carol","to":"dave","amount":7}             JsonElement.toString writes it; ",\n"
 * ]                                                   between lines, "\n]\n" after the last
 * </pre>
 *
 * The pool appends new lines where the closing bracket stood. A line that does not parse is
 * where a crash cut an append short: it and the rest are dropped (they were never reported
 * stored). A file in another layout (a JSON array edited by hand, which is small) is first
 * rewritten one transaction a line. A line whose transaction has no usable id field or holds
 * text that is not Unicode is dropped, with a log line, since no node would have stored it.
 */
final class PoolFile {

    private static final System.Logger log = System.getLogger("peer-node");

    static final String EMPTY_FILE = "[\n]\n";
    static final String SEPARATOR = ",\n";
    static final String CLOSING = "\n]\n";
    /** A hand-edited pool is small; one cut by a crash, of any size, is not valid JSON. */
    private static final long HAND_WRITTEN_MAX_BYTES = 16 << 20;

    /** Where each kept line goes: false when its transaction is already held, so it is not kept. */
    interface Sink {
        boolean keep(TransactionDigest digest, long offset, int length);
    }

    /**
     * What a scan found. {@code canonical}: every line whole, no id twice or unusable, every
     * line as the pool would write it, so the file needs no rewriting. {@code cutAtLine}: the
     * first line that did not parse, or 0. {@code kept}: the transactions kept.
     * {@code fileLength}: the canonical file's length.
     */
    record Scan(boolean canonical, int cutAtLine, int kept, long fileLength) {
        boolean cut() {
            return cutAtLine > 0;
        }
    }

    private PoolFile() {
    }

    /** Before the scan: stale temp files removed, a missing file made empty, a hand-written one laid out a line each. */
    static void prepare(Path file) throws IOException {
        AtomicFile.removeStaleTemps(file);   // what a node killed mid-rewrite left beside it
        if (!Files.exists(file) || Files.size(file) == 0) {
            AtomicFile.write(file, out -> out.write(EMPTY_FILE.getBytes(StandardCharsets.UTF_8)));
        } else if (!firstLineIs(file, "[")) {
            rewriteOneALine(file);
        }
    }

    /**
     * Reads the file a line at a time and hands each kept transaction's id, and where its line
     * stands in the canonical file, to {@code sink}. With {@code out}, writes that canonical
     * file there too (and then logs nothing: the first scan, without it, did).
     */
    static Scan scan(Path file, OutputStream out, Sink sink) throws IOException {
        Scanning scanning = new Scanning(file, out, sink);
        write(out, "[\n");
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            in.readLine();   // "["
            String line;
            int lineNumber = 1;
            while ((line = in.readLine()) != null) {
                lineNumber++;
                if (line.equals("]")) {
                    scanning.closed = true;
                    scanning.canonical &= !scanning.lastHadComma && in.readLine() == null;   // no comma before it, nothing after it
                    break;
                }
                if (!scanning.transactionLine(line, lineNumber)) {
                    break;
                }
            }
        }
        return scanning.end();
    }

    /** One scan's state, line by line. */
    private static final class Scanning {
        private final Path file;
        private final OutputStream out;
        private final Sink sink;
        private final boolean first;   // the first scan logs what it finds; the one that writes the file back does not
        private boolean canonical = true;
        private boolean closed;
        private int cutAtLine;
        private boolean lastHadComma;
        private int kept;
        private int duplicates;
        private long offset = 2;   // after "[\n"

        Scanning(Path file, OutputStream out, Sink sink) {
            this.file = file;
            this.out = out;
            this.sink = sink;
            this.first = out == null;
        }

        /** A line that should hold a transaction; false when it does not parse, and the scan stops there. */
        boolean transactionLine(String line, int lineNumber) throws IOException {
            boolean comma = line.endsWith(",");
            String text = comma ? line.substring(0, line.length() - 1) : line;
            JsonObject transaction;
            try {
                transaction = JsonParser.parseString(text).getAsJsonObject();
            } catch (RuntimeException e) {
                cutAtLine = lineNumber;   // the caller says why: a crash, or a layout of its own
                return false;
            }
            String json = transaction.toString();
            TransactionDigest digest;
            try {
                digest = TransactionDigest.of(transaction);
                TransactionId.of(transaction, digest);   // its id field, if any, is one a node accepts
            } catch (IllegalArgumentException e) {
                if (first) {
                    log.log(WARNING, file + ": dropped line " + lineNumber + ", a transaction no node would store ("
                            + e.getMessage() + ")");
                }
                canonical = false;
                return true;
            }
            int length = Text.utf8Length(json);   // exact: well-formed, or the digest would have refused it
            long at = kept == 0 ? offset : offset + SEPARATOR.length();
            if (!sink.keep(digest, at, length)) {   // written by hand, or by an older version: kept once
                duplicates++;
                canonical = false;
                return true;
            }
            canonical &= json.equals(text) && (kept == 0 || lastHadComma);
            lastHadComma = comma;
            if (kept > 0) {
                write(out, SEPARATOR);
            }
            write(out, json);
            offset = at + length;
            kept++;
            return true;
        }

        Scan end() throws IOException {
            if (first && duplicates > 0) {
                log.log(WARNING, file + ": " + duplicates + " lines repeated a transaction already in the file; kept the first of each");
            }
            if (first && !closed && cutAtLine == 0) {
                log.log(WARNING, file + " ended without its closing bracket (an append cut short by a crash): kept "
                        + kept + " whole transactions");
            }
            write(out, kept == 0 ? "]\n" : CLOSING);
            long fileLength = kept == 0 ? EMPTY_FILE.length() : offset + CLOSING.length();
            return new Scan(canonical && closed && cutAtLine == 0, cutAtLine, kept, fileLength);
        }
    }

    /** How many lines the file holds (its newlines): about how many transactions, to size the index before reading them. */
    static int countLines(Path file) throws IOException {
        long lines = 0;
        try (var in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    lines += buffer[i] == '\n' ? 1 : 0;
                }
            }
        }
        return (int) Math.min(Integer.MAX_VALUE - 16, lines);
    }

    /** True when the file is small enough to be hand-written and holds valid JSON. */
    static boolean isSmallJson(Path file) throws IOException {
        if (Files.size(file) > HAND_WRITTEN_MAX_BYTES) {
            return false;
        }
        try {
            JsonParser.parseString(Files.readString(file));
            return true;
        } catch (JsonParseException e) {
            return false;
        }
    }

    /** A JSON array of transactions written by hand, in any layout: rewritten one a line. */
    static void rewriteOneALine(Path file) throws IOException {
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(Files.readString(file));
        } catch (JsonParseException e) {
            throw new IOException(file + " is not valid JSON, and not a pool this node wrote (its first line is not '['); "
                    + "move it away to start with an empty pool");
        }
        if (!parsed.isJsonArray()) {
            throw new IOException(file + " must hold a JSON array of transactions");
        }
        List<String> lines = new ArrayList<>();
        for (JsonElement element : parsed.getAsJsonArray()) {
            if (element.isJsonObject()) {
                lines.add(element.toString());
            }
        }
        String text = lines.isEmpty() ? EMPTY_FILE : "[\n" + String.join(SEPARATOR, lines) + CLOSING;
        AtomicFile.write(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static boolean firstLineIs(Path file, String expected) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return expected.equals(in.readLine());
        }
    }

    private static void write(OutputStream out, String text) throws IOException {
        if (out != null) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }
}
