package wirelab.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

@Timeout(60)
class ExchangeClientTest {

    @TempDir
    Path dir;

    private Path out() {
        return dir.resolve("output.json");
    }

    private ExchangeClient.Options options(int port) {
        return ExchangeClient.Options.defaults().withServer(port).withOut(out()).withTimeout(1_000, 2);
    }

    @Test
    void theBackoffGrowsToOneSecondAndStaysThereForEveryAttemptRetriesAllows() {
        long previous = 0;
        for (int attempt = 1; attempt <= 100; attempt++) {   // --retries allows 100; 50 << 58 would overflow
            long ms = Resend.backoffMs(attempt);
            assertTrue(ms >= previous && ms > 0 && ms <= 1_000, "attempt " + attempt + ": " + ms + " ms");
            previous = ms;
        }
        assertEquals(1_000, Resend.backoffMs(100));
    }

    @Test
    void recoversEveryGapForManySeedsAndWritesTheWholeBook() throws Exception {
        for (long seed = 1; seed <= 30; seed++) {
            try (ExchangeServer server = ExchangeServer.start(
                    ExchangeServer.Options.original().withPort(0).withDrops(0.5, seed))) {
                ClientSummary summary = new ExchangeClient(options(server.port())).run();
                assertEquals(14, summary.receivedInStream() + summary.recovered(), "seed " + seed);
                assertEquals(summary.missing(), summary.recovered());
                assertEquals(ExchangeServer.ORIGINAL_BOOK, readOutput(out()), "seed " + seed);
            }
        }
    }

    @Test
    void outputHasTheFieldsInOrderAsTheAssignmentNamesThem() throws Exception {
        try (ExchangeServer server = ExchangeServer.start(ExchangeServer.Options.original().withPort(0))) {
            new ExchangeClient(options(server.port())).run();
        }
        JsonObject first = JsonParser.parseString(Files.readString(out())).getAsJsonArray().get(0).getAsJsonObject();
        assertEquals(List.of("symbol", "buySellIndicator", "quantity", "price", "sequence"), List.copyOf(first.keySet()));
        assertEquals("AAPL", first.get("symbol").getAsString());
        assertEquals("B", first.get("buySellIndicator").getAsString());
    }

    @Test
    void aStreamWrittenOneByteAtATimeIsCutIntoPackets() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> {
            if (request.callType() == 1) {
                for (Packet packet : FakeExchange.book(1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14)) {
                    for (byte b : packet.encode()) {
                        out.write(b);
                        out.flush();
                    }
                }
                return false;
            }
            FakeExchange.write(out, FakeExchange.book(request.resendSeq()));
            return true;
        })) {
            ClientSummary summary = new ExchangeClient(options(server.port())).run();
            assertEquals(13, summary.receivedInStream());
            assertEquals(1, summary.recovered());
            assertEquals(ExchangeServer.ORIGINAL_BOOK, readOutput(out()));
        }
    }

    @Test
    void aResendThatIsNeverAnsweredFailsNamingTheSequenceAndWritesNothing() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> {
            if (request.callType() == 1) {
                FakeExchange.write(out, FakeExchange.book(1, 2, 4));
                return false;
            }
            return true;   // keep the connection open and never answer
        })) {
            ExchangeClient client = new ExchangeClient(options(server.port()).withTimeout(300, 1));
            IOException e = assertThrows(ExchangeClient.IncompleteException.class, client::run);
            assertTrue(e.getMessage().contains("sequence 3 (resend of sequence 3 timed out, after 2 attempts)"), e.getMessage());
            assertEquals(1, client.summary().retries());
            assertNoOutputAndNoTempFiles();
        }
    }

    @Test
    void aStreamThatEndsInTheMiddleOfAPacketIsAnErrorNamingTheOffset() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> {
            FakeExchange.write(out, FakeExchange.book(1, 2));
            out.write(ExchangeServer.ORIGINAL_BOOK.get(2).encode(), 0, 5);
            return false;
        })) {
            IOException e = assertThrows(IOException.class, () -> new ExchangeClient(options(server.port())).run());
            assertEquals("stream 1 ended in the middle of a packet at byte 34: got 5 of 17 bytes (41 41 50 4c 53)", e.getMessage());
            assertNoOutputAndNoTempFiles();
        }
    }

    @Test
    void aResendAnsweredWithTheWrongSequenceIsRejectedAndRetried() throws Exception {
        AtomicInteger resends = new AtomicInteger();
        try (FakeExchange server = new FakeExchange((request, out) -> {
            if (request.callType() == 1) {
                FakeExchange.write(out, FakeExchange.book(1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14));
                return false;
            }
            int answer = resends.getAndIncrement() == 0 ? 9 : request.resendSeq();   // first answer is wrong
            FakeExchange.write(out, FakeExchange.book(answer));
            return true;
        })) {
            ClientSummary summary = new ExchangeClient(options(server.port())).run();
            assertEquals(1, summary.retries());
            assertEquals(ExchangeServer.ORIGINAL_BOOK, readOutput(out()));
        }
    }

    @Test
    void aResendAlwaysAnsweredWrongFailsWithTheReason() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> {
            if (request.callType() == 1) {
                FakeExchange.write(out, FakeExchange.book(1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14));
                return false;
            }
            FakeExchange.write(out, FakeExchange.book(9));
            return true;
        })) {
            IOException e = assertThrows(ExchangeClient.IncompleteException.class,
                    () -> new ExchangeClient(options(server.port())).run());
            assertTrue(e.getMessage().endsWith("sequence 5 (asked for sequence 5, got sequence 9, after 3 attempts)"), e.getMessage());
            assertNoOutputAndNoTempFiles();
        }
    }

    @Test
    void anIdenticalDuplicateIsIgnored() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> {
            FakeExchange.write(out, FakeExchange.book(1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 13, 14));
            return false;
        })) {
            ClientSummary summary = new ExchangeClient(options(server.port())).run();
            assertEquals(14, summary.receivedInStream());
            assertEquals(ExchangeServer.ORIGINAL_BOOK, readOutput(out()));
        }
    }

    @Test
    void twoDifferentPacketsWithOneSequenceAreAnError() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> {
            FakeExchange.write(out, List.of(new Packet("AAPL", 'B', 50, 100, 1), new Packet("AAPL", 'S', 50, 100, 1)));
            return false;
        })) {
            IOException e = assertThrows(IOException.class, () -> new ExchangeClient(options(server.port())).run());
            assertTrue(e.getMessage().startsWith("sequence 1 arrived twice with different contents"), e.getMessage());
            assertNoOutputAndNoTempFiles();
        }
    }

    @Test
    void asksForAllMissingPacketsAtOnce() throws Exception {
        assertEquals(5, mostResendsOpenAtOnce(0));
    }

    @Test
    void concurrencyOneAsksOneAtATimeAsTheSeedsDo() throws Exception {
        assertEquals(1, mostResendsOpenAtOnce(1));
    }

    /**
     * A fake that holds every resend until all five missing ones are open together (or 1.5 s
     * pass), and counts how many were open at once. A sequential client never gets past one.
     */
    private int mostResendsOpenAtOnce(int concurrency) throws Exception {
        int[] streamed = {1, 3, 5, 7, 9, 11, 12, 13, 14};   // 2, 4, 6, 8, 10 missing
        List<Integer> missing = new ArrayList<>(List.of(2, 4, 6, 8, 10));
        AtomicInteger open = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        CountDownLatch allOpen = new CountDownLatch(missing.size());
        try (FakeExchange server = new FakeExchange((request, out) -> {
            if (request.callType() == 1) {
                FakeExchange.write(out, FakeExchange.book(streamed));
                return false;
            }
            most.accumulateAndGet(open.incrementAndGet(), Math::max);
            allOpen.countDown();
            allOpen.await(1_500, TimeUnit.MILLISECONDS);
            open.decrementAndGet();
            FakeExchange.write(out, FakeExchange.book(request.resendSeq()));
            return true;
        })) {
            new ExchangeClient(options(server.port()).withTimeout(5_000, 0).withConcurrency(concurrency)).run();
            assertEquals(ExchangeServer.ORIGINAL_BOOK, readOutput(out()));
        }
        return most.get();
    }

    @Test
    void aFailedRunLeavesTheOlderCompleteOutputAlone() throws Exception {
        Files.writeString(out(), "[\"an older complete output\"]");
        try (FakeExchange server = new FakeExchange((request, out) -> {
            FakeExchange.write(out, FakeExchange.book(1));
            out.write(7);   // one stray byte: the stream ends mid-packet
            return false;
        })) {
            assertThrows(IOException.class, () -> new ExchangeClient(options(server.port())).run());
        }
        assertEquals("[\"an older complete output\"]", Files.readString(out()));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(out()), files.toList());
        }
    }

    @Test
    void anEmptyStreamIsAnError() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> false)) {
            IOException e = assertThrows(IOException.class, () -> new ExchangeClient(options(server.port())).run());
            assertEquals("the server closed stream 1 without sending a single packet", e.getMessage());
            assertNoOutputAndNoTempFiles();
        }
    }

    @Test
    void noServerIsAClearError() throws Exception {
        // A port below the kernel's ephemeral range (32768 and up on Linux) that nothing holds:
        // a freed ephemeral port can be picked again as the client's own source port.
        int port = 20_000;
        while (true) {
            try {
                new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress()).close();
                break;
            } catch (IOException taken) {
                port++;
            }
        }
        int closedPort = port;
        IOException e = assertThrows(IOException.class, () -> new ExchangeClient(options(closedPort)).run());
        assertTrue(e.getMessage().startsWith("cannot connect to 127.0.0.1:" + closedPort), e.getMessage());
    }

    @Test
    void aStreamThatTricklesPastTheDeadlineTimesOut() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> {
            for (byte b : ExchangeServer.ORIGINAL_BOOK.get(0).encode()) {
                out.write(b);
                out.flush();
                Thread.sleep(100);   // every byte comes well within a per-read timeout
            }
            return false;
        })) {
            IOException e = assertThrows(IOException.class,
                    () -> new ExchangeClient(options(server.port()).withTimeout(500, 0)).run());
            assertEquals("stream 1 timed out", e.getMessage());
            assertNoOutputAndNoTempFiles();
        }
    }

    @Test
    void theOtherStreamsAreReadOnlyWhenStreamOneShowsTheyCanAddSomething() throws Exception {
        // a big book that stream 1 brings without one drop: the other four are closed unread
        try (ExchangeServer server = ExchangeServer.start(
                ExchangeServer.Options.original().withPort(0).withPackets(20_000).withDrops(0, null))) {
            ClientSummary summary = new ExchangeClient(options(server.port())).run();
            assertEquals(1, summary.streams(), summary.toString());
            assertEquals(20_000, JsonParser.parseString(Files.readString(out())).getAsJsonArray().size());
        }
        // a server that drops, anew on each stream: all five are read, and their union fills gaps no resend
        // could ask for (above 127); each is missed by all five with p = 0.01^5
        try (ExchangeServer server = ExchangeServer.start(
                ExchangeServer.Options.original().withPort(0).withPackets(20_000).withDrops(0.01, null))) {
            ClientSummary summary = new ExchangeClient(options(server.port())).run();
            assertEquals(5, summary.streams(), summary.toString());
            assertEquals(20_000, JsonParser.parseString(Files.readString(out())).getAsJsonArray().size());
        }
        // a small book: read from all five whatever stream 1 showed, as they cost nothing worth saving
        try (ExchangeServer server = ExchangeServer.start(
                ExchangeServer.Options.original().withPort(0).withPackets(5_000).withDrops(0, null))) {
            assertEquals(5, new ExchangeClient(options(server.port())).run().streams());
        }
    }

    @Test
    void aStreamLongerThanMaxPacketsIsRefused() throws Exception {
        try (ExchangeServer server = ExchangeServer.start(
                ExchangeServer.Options.original().withPort(0).withPackets(5_000).withDrops(0, null))) {
            IOException e = assertThrows(IOException.class,
                    () -> new ExchangeClient(options(server.port()).withMaxPackets(1_000)).run());
            assertTrue(e.getMessage().contains("more than 1000 packets (--max-packets)"), e.getMessage());
            assertNoOutputAndNoTempFiles();
        }
    }

    @Test
    void aGapBeyondSequence127CannotBeAskedForAndSaysWhy() throws Exception {
        try (ExchangeServer server = ExchangeServer.start(
                ExchangeServer.Options.original().withPort(0).withPackets(300).withDrops(0.2, 3L))) {
            IOException e = assertThrows(ExchangeClient.IncompleteException.class,
                    () -> new ExchangeClient(options(server.port())).run());
            assertTrue(e.getMessage().contains("only sequences 1..127 can be asked for"), e.getMessage());
            assertFalse(Files.exists(out()));
        }
    }

    // --- hostile servers ----------------------------------------------------------------------

    @Test
    void aResendTrickledOneByteAtATimeStillTimesOut() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> {
            if (request.callType() == 1) {
                FakeExchange.write(out, FakeExchange.book(1, 3));
                return false;
            }
            for (byte b : ExchangeServer.ORIGINAL_BOOK.get(1).encode()) {
                out.write(b);
                out.flush();
                Thread.sleep(100);
            }
            return true;
        })) {
            ExchangeClient client = new ExchangeClient(options(server.port()).withTimeout(400, 1));
            IOException e = assertThrows(ExchangeClient.IncompleteException.class, client::run);
            assertTrue(e.getMessage().contains("sequence 2 (resend of sequence 2 timed out, after 2 attempts)"), e.getMessage());
            assertNoOutputAndNoTempFiles();
        }
    }

    @Test
    void aStreamThatNeverEndsIsCutOffAtMaxPackets() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> {
            for (int sequence = 1; ; sequence++) {   // until the client hangs up
                out.write(new Packet("LOOP", 'B', 1, 1, sequence).encode());
            }
        })) {
            IOException e = assertThrows(IOException.class,
                    () -> new ExchangeClient(options(server.port()).withTimeout(10_000, 0).withMaxPackets(50_000)).run());
            assertTrue(e.getMessage().contains("more than 50000 packets (--max-packets)"), e.getMessage());
            assertNoOutputAndNoTempFiles();
        }
    }

    @Test
    void garbageInsteadOfPacketsIsAnErrorNamingTheOffsetAndBytes() throws Exception {
        try (FakeExchange server = new FakeExchange((request, out) -> {
            FakeExchange.write(out, FakeExchange.book(1, 2));
            out.write("GET / HTTP/1.1\r\nHost: x\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return false;
        })) {
            IOException e = assertThrows(IOException.class, () -> new ExchangeClient(options(server.port())).run());
            assertEquals("packet at byte 34: symbol must be 4 printable ASCII characters, got 0x20 at symbol byte 3"
                    + " (packet bytes 47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a 48)", e.getMessage());
            assertNoOutputAndNoTempFiles();
        }
    }

    private void assertNoOutputAndNoTempFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.toList());
        }
    }

    static List<Packet> readOutput(Path file) throws IOException {
        JsonArray array = JsonParser.parseString(Files.readString(file)).getAsJsonArray();
        List<Packet> packets = new ArrayList<>();
        for (var element : array) {
            JsonObject o = element.getAsJsonObject();
            packets.add(new Packet(o.get("symbol").getAsString(), o.get("buySellIndicator").getAsString().charAt(0),
                    o.get("quantity").getAsInt(), o.get("price").getAsInt(), o.get("sequence").getAsInt()));
        }
        return packets;
    }
}
