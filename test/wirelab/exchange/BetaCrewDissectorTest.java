package wirelab.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import wirelab.Capture;

/**
 * scripts/wireshark/wirelab.lua reads the exchange's wire as the client does: a capture of a real
 * run, made here, decoded by tshark field by field, against what the client wrote.
 */
@Timeout(120)
class BetaCrewDissectorTest {

    private static final String[] PACKET_FIELDS = {"betacrew.call_type", "betacrew.resend_seq", "betacrew.symbol",
            "betacrew.buy_sell", "betacrew.quantity", "betacrew.price", "betacrew.sequence", "_ws.expert.message"};

    @TempDir
    Path dir;

    @Test
    void aClientRunReadsAsTheClientSawItEveryGapNotedAndEachResendAskedForOnce() throws Exception {
        Path out = dir.resolve("output.json");
        Capture capture;
        try (ExchangeServer server = ExchangeServer.start(ExchangeServer.Options.original().withPort(0).withDrops(0.3, 7L))) {
            capture = Capture.start(dir.resolve("exchange.pcapng"), "tcp port " + server.port());
            try (capture) {
                new ExchangeClient(ExchangeClient.Options.defaults().withServer(server.port()).withOut(out)
                        .withStreams(1).withTimeout(2_000, 2)).run();
            }
            List<Decoded> decoded = decode(capture, server.port());

            List<Integer> streamed = new ArrayList<>();
            List<Integer> resendsAsked = new ArrayList<>();
            List<String> packets = new ArrayList<>();
            List<Integer> sequences = new ArrayList<>();
            Set<Integer> notedMissing = new TreeSet<>();
            for (Decoded frame : decoded) {
                for (int i = 0; i < frame.callTypes.size(); i++) {
                    if (frame.callTypes.get(i) == 2) {
                        resendsAsked.add(frame.resendSeqs.get(i));
                    }
                }
                packets.addAll(frame.packets);
                sequences.addAll(frame.sequences);
                notedMissing.addAll(frame.missing);
            }
            long streamRequests = decoded.stream().flatMap(frame -> frame.callTypes.stream()).filter(t -> t == 1).count();
            assertEquals(1, streamRequests, "one stream asked for: " + decoded);
            List<Packet> written = ExchangeClientTest.readOutput(out);
            Set<Integer> all = new TreeSet<>();
            written.forEach(packet -> all.add(packet.sequence()));
            for (int sequence : sequences) {
                if (!resendsAsked.contains(sequence)) {
                    streamed.add(sequence);
                }
            }
            Set<Integer> dropped = new TreeSet<>(all);
            dropped.removeAll(streamed);
            assertFalse(dropped.isEmpty(), "seed 7 drops some packets, so that there are gaps to see");
            assertEquals(dropped, new TreeSet<>(resendsAsked), "the resends on the wire are the packets the stream lacked");
            assertEquals(resendsAsked.size(), dropped.size(), "each asked for once: " + resendsAsked);
            assertEquals(dropped, notedMissing, "every gap noted, as the client saw it (the last packet always comes from ours)");
            assertEquals(new TreeSet<>(written.stream().map(BetaCrewDissectorTest::asInfo).toList()), new TreeSet<>(packets),
                    "each field as the client wrote it");
            assertEquals(written.size(), packets.size(), "every sequence once on the wire, streamed or resent");
        }
    }

    /**
     * TCP owes the exchange no boundaries: a request in two segments, a packet split across two,
     * and two packets in one segment are each read once, whole; a packet that breaks the format
     * and a jump in the sequence are noted.
     */
    @Test
    void packetsSplitAcrossSegmentsOrSharingOneAreEachDecodedOnce() throws Exception {
        byte[] first = new Packet("AAPL", 'B', 50, 100, 1).encode();
        byte[] second = new Packet("MSFT", 'S', 15, 155, 2).encode();
        byte[] fourth = new Packet("AMZN", 'B', 10, 3000, 4).encode();
        fourth[4] = 'X';   // neither B nor S
        try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Capture capture = Capture.start(dir.resolve("split.pcapng"), "tcp port " + listener.getLocalPort());
            try (capture; Socket client = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
                 Socket server = listener.accept()) {
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                OutputStream request = client.getOutputStream();
                request.write(1);                       // callType, alone in its segment
                Thread.sleep(100);
                request.write(0);                       // resendSeq, in the next
                InputStream atServer = server.getInputStream();
                assertEquals(1, atServer.read());
                assertEquals(0, atServer.read());
                OutputStream answer = server.getOutputStream();
                answer.write(first, 0, 10);             // the first packet's first 10 bytes
                Thread.sleep(100);
                byte[] rest = new byte[7 + 17 + 17];    // its last 7, then two packets whole, in one segment
                System.arraycopy(first, 10, rest, 0, 7);
                System.arraycopy(second, 0, rest, 7, 17);
                System.arraycopy(fourth, 0, rest, 24, 17);
                answer.write(rest);
                client.getInputStream().readNBytes(51);
            }
            List<Decoded> decoded = decode(capture, listener.getLocalPort());
            assertEquals(2, decoded.size(), "the request and the packets, each in the frame that completes it: " + decoded);
            assertEquals(List.of(1), decoded.get(0).callTypes, "one request, reassembled");
            Decoded packets = decoded.get(1);
            assertEquals(List.of("AAPL B 50 @ 100 #1", "MSFT S 15 @ 155 #2", "AMZN X 10 @ 3000 #4"), packets.packets);
            assertEquals(Set.of(3), packets.missing, "sequence 3 noted missing");
            assertTrue(packets.experts.contains("the indicator must be 'B' or 'S'"), packets.experts);
        }
    }

    /** What tshark read in one frame: its requests, its packets (as the Info column writes them), its expert notes. */
    private record Decoded(List<Integer> callTypes, List<Integer> resendSeqs, List<String> packets, List<Integer> sequences,
                           Set<Integer> missing, String experts) {
    }

    private static String asInfo(Packet packet) {
        return packet.symbol() + " " + packet.buySellIndicator() + " " + packet.quantity() + " @ " + packet.price()
                + " #" + packet.sequence();
    }

    private static List<Decoded> decode(Capture capture, int port) throws Exception {
        List<Decoded> frames = new ArrayList<>();
        for (List<String> row : capture.fields(List.of("betacrew.port:" + port), "betacrew", PACKET_FIELDS)) {
            List<Integer> callTypes = ints(row.get(0));
            List<Integer> resendSeqs = ints(row.get(1));
            List<String> symbols = split(row.get(2));
            List<String> indicators = split(row.get(3));
            List<Integer> quantities = ints(row.get(4));
            List<Integer> prices = ints(row.get(5));
            List<Integer> sequences = ints(row.get(6));
            List<String> packets = new ArrayList<>();
            for (int i = 0; i < sequences.size(); i++) {
                packets.add(symbols.get(i) + " " + indicators.get(i) + " " + quantities.get(i) + " @ " + prices.get(i)
                        + " #" + sequences.get(i));
            }
            Set<Integer> missing = new TreeSet<>();
            Matcher gap = Pattern.compile("packets? (\\d+)(?:-(\\d+))? missing").matcher(row.get(7));
            while (gap.find()) {
                int from = Integer.parseInt(gap.group(1));
                int to = gap.group(2) == null ? from : Integer.parseInt(gap.group(2));
                for (int sequence = from; sequence <= to; sequence++) {
                    missing.add(sequence);
                }
            }
            frames.add(new Decoded(callTypes, resendSeqs, packets, sequences, missing, row.get(7)));
        }
        return frames;
    }

    private static List<String> split(String values) {
        return values.isEmpty() ? List.of() : List.of(values.split(","));
    }

    private static List<Integer> ints(String values) {
        return split(values).stream().map(Integer::valueOf).toList();
    }
}
