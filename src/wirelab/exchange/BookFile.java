package wirelab.exchange;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import com.google.gson.stream.JsonWriter;

import wirelab.AtomicFile;

/**
 * The client's output: the whole book as a JSON array ordered by sequence, with the fields the
 * assignment names ({@code symbol}, {@code buySellIndicator}, {@code quantity}, {@code price},
 * {@code sequence}), written through {@link AtomicFile} so that a crash never leaves half of it.
 */
final class BookFile {

    private BookFile() {
    }

    /** Writes {@code bySequence[0..highest)}, every one present, to {@code out}. */
    static void write(Path out, Packet[] bySequence, int highest) throws IOException {
        AtomicFile.write(out, file -> {
            try (JsonWriter json = new JsonWriter(new UnsynchronizedWriter(file))) {
                json.setIndent("  ");
                json.beginArray();
                for (int sequence = 1; sequence <= highest; sequence++) {
                    Packet packet = bySequence[sequence - 1];
                    json.beginObject()
                        .name("symbol").value(packet.symbol())
                        .name("buySellIndicator").value(String.valueOf(packet.buySellIndicator()))
                        .name("quantity").value(packet.quantity())
                        .name("price").value(packet.price())
                        .name("sequence").value(packet.sequence())
                        .endObject();
                }
                json.endArray();
            }
        });
    }

    /**
     * gson calls write() several times for every value; the JDK's writers take a lock on each
     * call, which cost more than the writing itself (half the time of a million-packet run, by
     * JFR). This one gathers characters in a StringBuilder and hands the file 64 KiB at a time.
     */
    private static final class UnsynchronizedWriter extends Writer {
        private final OutputStream out;
        private final StringBuilder chunk = new StringBuilder(1 << 16);

        UnsynchronizedWriter(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(char[] characters, int offset, int length) throws IOException {
            chunk.append(characters, offset, length);
            spillIfFull();
        }

        @Override
        public void write(String text, int offset, int length) throws IOException {
            chunk.append(text, offset, offset + length);
            spillIfFull();
        }

        @Override
        public void write(int character) throws IOException {
            chunk.append((char) character);
            spillIfFull();
        }

        private void spillIfFull() throws IOException {
            if (chunk.length() >= 1 << 16) {
                flush();
            }
        }

        @Override
        public void flush() throws IOException {
            out.write(chunk.toString().getBytes(StandardCharsets.UTF_8));
            chunk.setLength(0);
        }

        @Override
        public void close() throws IOException {
            flush();
            out.close();
        }
    }
}
