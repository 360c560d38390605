package wirelab.exchange;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;

import wirelab.AtomicFile;

/**
 * The client's output: the whole book as a JSON array ordered by sequence, with the fields the
 * assignment names ({@code symbol}, {@code buySellIndicator}, {@code quantity}, {@code price},
 * {@code sequence}), written through {@link AtomicFile} so that a crash never leaves half of it.
 */
final class BookFile {

    private BookFile() {
    }

    /**
     * Writes {@code bySequence[0..highest)}, every one present, to {@code out}, laid out as
     * gson's pretty printer lays it out (two spaces an indent). Written by hand, straight into
     * bytes: every field is ASCII (a symbol is 4 printable ASCII characters, of which only
     * {@code "} and {@code \} need escaping), and for a million packets (121 MB) this took the
     * writing from about 1.3 s through gson's JsonWriter to a fraction of it (make bench).
     */
    static void write(Path out, Packet[] bySequence, int highest) throws IOException {
        AtomicFile.write(out, file -> {
            Bytes bytes = new Bytes(file);
            bytes.ascii("[");
            for (int sequence = 1; sequence <= highest; sequence++) {
                Packet packet = bySequence[sequence - 1];
                bytes.ascii(sequence == 1 ? "\n  {\n    \"symbol\": \"" : ",\n  {\n    \"symbol\": \"");
                for (int i = 0; i < packet.symbol().length(); i++) {
                    char c = packet.symbol().charAt(i);
                    if (c == '"' || c == '\\') {
                        bytes.ascii("\\");
                    }
                    bytes.ascii(c);
                }
                bytes.ascii("\",\n    \"buySellIndicator\": \"");
                bytes.ascii(packet.buySellIndicator());
                bytes.ascii("\",\n    \"quantity\": ").number(packet.quantity());
                bytes.ascii(",\n    \"price\": ").number(packet.price());
                bytes.ascii(",\n    \"sequence\": ").number(packet.sequence());
                bytes.ascii("\n  }");
            }
            bytes.ascii(highest == 0 ? "]" : "\n]");
            bytes.flush();
        });
    }

    /** A 64 KiB buffer of ASCII bytes in front of the file. */
    private static final class Bytes {
        private final OutputStream out;
        private final byte[] buffer = new byte[1 << 16];
        private int used;

        Bytes(OutputStream out) {
            this.out = out;
        }

        Bytes ascii(String text) throws IOException {
            for (int i = 0; i < text.length(); i++) {
                ascii(text.charAt(i));
            }
            return this;
        }

        Bytes ascii(char c) throws IOException {
            if (used == buffer.length) {
                flush();
            }
            buffer[used++] = (byte) c;
            return this;
        }

        /** A 32-bit signed integer in decimal, as JSON writes it. */
        Bytes number(int value) throws IOException {
            if (value < 0) {
                ascii('-');
            }
            long magnitude = Math.abs((long) value);
            long power = 1;
            while (power * 10 <= magnitude) {
                power *= 10;
            }
            for (; power > 0; power /= 10) {
                ascii((char) ('0' + magnitude / power % 10));
            }
            return this;
        }

        void flush() throws IOException {
            out.write(buffer, 0, used);
            used = 0;
        }
    }
}
