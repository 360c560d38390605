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
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonParser;

/**
 * Against a server that behaves as the original main.js does: every packet of a stream, the
 * last one too, is dropped with p = 1/4, and a resend of a sequence it does not have kills it.
 * Each stream's drops come from its own seeded generator, so every run is exact.
 */
@Timeout(120)
class LastPacketTest {

    @TempDir
    Path dir;

    /** The original's behaviour; {@code crashed} records a resend that would have killed it. */
    static final class OriginalLikeServer implements AutoCloseable {
        final AtomicBoolean crashed = new AtomicBoolean();
        final AtomicInteger streamsOpenAtOnce = new AtomicInteger();
        private final AtomicInteger streams = new AtomicInteger();
        private final AtomicInteger open = new AtomicInteger();
        private final FakeExchange exchange;

        OriginalLikeServer(long seed, CountDownLatch allStreamsOpen) throws IOException {
            exchange = new FakeExchange((request, out) -> {
                if (request.callType() == 1) {
                    Random drops = new Random(seed * 1_000 + streams.getAndIncrement());
                    streamsOpenAtOnce.accumulateAndGet(open.incrementAndGet(), Math::max);
                    allStreamsOpen.countDown();
                    allStreamsOpen.await(5, TimeUnit.SECONDS);   // answers no stream until all are open
                    List<Packet> sent = new ArrayList<>();
                    for (Packet packet : ExchangeServer.ORIGINAL_BOOK) {
                        if (drops.nextDouble() <= 0.75) {   // main.js: skipped when Math.random() > 0.75
                            sent.add(packet);
                        }
                    }
                    FakeExchange.write(out, sent);
                    open.decrementAndGet();
                    return false;
                }
                if (request.resendSeq() < 1 || request.resendSeq() > 14) {
                    crashed.set(true);   // the original throws here, and the whole process dies
                    return false;
                }
                FakeExchange.write(out, FakeExchange.book(request.resendSeq()));
                return true;
            });
        }

        OriginalLikeServer(long seed) throws IOException {
            this(seed, new CountDownLatch(0));
        }

        int port() {
            return exchange.port();
        }

        @Override
        public void close() throws IOException {
            exchange.close();
        }
    }

    @Test
    void byDefaultTheBookIsCompleteIn995OfEvery1000Runs() throws Exception {
        int complete = 0;
        for (long seed = 1; seed <= 1_000; seed++) {
            try (OriginalLikeServer server = new OriginalLikeServer(seed)) {
                if (sequencesWritten(runClient(server, ExchangeClient.Options.defaults())) == 14) {
                    complete++;
                }
                assertFalse(server.crashed.get(), "seed " + seed + ": the client asked for a sequence the original lacks");
            }
        }
        assertTrue(complete >= 995, "complete in " + complete + " of 1000 runs");
    }

    @Test
    void oneStreamReproducesTheSeedClientsMissWhereFiveStreamsDoNot() throws Exception {
        List<Long> missedWithOne = new ArrayList<>();
        for (long seed = 1; seed <= 40; seed++) {
            try (OriginalLikeServer server = new OriginalLikeServer(seed)) {
                int written = sequencesWritten(runClient(server, ExchangeClient.Options.defaults().withStreams(1)));
                if (written < 14) {
                    missedWithOne.add(seed);
                }
                assertFalse(server.crashed.get());
            }
        }
        assertTrue(missedWithOne.size() >= 4, "a single stream should miss the tail about 1 run in 4: " + missedWithOne);
        for (long seed : missedWithOne) {
            try (OriginalLikeServer server = new OriginalLikeServer(seed)) {
                ClientSummary summary = runClient(server, ExchangeClient.Options.defaults());
                assertEquals(14, sequencesWritten(summary), "seed " + seed + " with five streams");
                assertFalse(server.crashed.get());
            }
        }
    }

    @Test
    void theStreamsGoOutConcurrentlySoTheyCostOneRoundTrip() throws Exception {
        CountDownLatch allFive = new CountDownLatch(5);
        try (OriginalLikeServer server = new OriginalLikeServer(7, allFive)) {
            long started = System.nanoTime();
            ClientSummary summary = runClient(server, ExchangeClient.Options.defaults());
            assertEquals(5, server.streamsOpenAtOnce.get(), "the server saw the five streams open together");
            assertEquals(5, summary.streams());
            assertTrue((System.nanoTime() - started) / 1_000_000 < 4_000, "the streams waited on each other");
        }
    }

    @Test
    void theSummarySaysInHowManyStreamsTheLastSequenceCameAndHowLikelyAMissIs() throws Exception {
        try (OriginalLikeServer server = new OriginalLikeServer(3)) {
            ClientSummary summary = runClient(server, ExchangeClient.Options.defaults());
            assertEquals(14, summary.highestSequence());
            assertTrue(summary.dropRate() > 0.05 && summary.dropRate() < 0.5, "drop rate " + summary.dropRate());
            assertTrue(summary.toString().contains("the last sequence seen, 14, came in " + summary.lastSeenIn() + " of 5 streams; "
                    + "a sequence 15 would have had to be dropped by all 5: at the drop rate seen"), summary.toString());
            assertEquals(14, summary.receivedInStream() + summary.recovered(), "duplicates across streams count once");
        }
    }

    @Test
    void twoStreamsThatDisagreeOnAPacketAreAnErrorAndNothingIsWritten() throws Exception {
        AtomicInteger streams = new AtomicInteger();
        try (FakeExchange server = new FakeExchange((request, out) -> {
            List<Packet> book = new ArrayList<>(ExchangeServer.ORIGINAL_BOOK);
            if (streams.getAndIncrement() == 2) {
                book.set(4, new Packet("META", 'B', 41, 50, 5));   // one stream says quantity 41, the others 40
            }
            FakeExchange.write(out, book);
            return false;
        })) {
            ExchangeClient client = new ExchangeClient(ExchangeClient.Options.defaults().withServer(server.port())
                    .withOut(dir.resolve("output.json")));
            IOException e = assertThrows(IOException.class, client::run);
            assertTrue(e.getMessage().startsWith("sequence 5 arrived twice with different contents"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("output.json")));
        }
    }

    private ClientSummary runClient(OriginalLikeServer server, ExchangeClient.Options options) throws IOException {
        return new ExchangeClient(options.withServer(server.port()).withOut(dir.resolve("output.json")).withTimeout(5_000, 2)).run();
    }

    private int sequencesWritten(ClientSummary summary) throws IOException {
        assertTrue(summary.highestSequence() > 0);
        return JsonParser.parseString(Files.readString(dir.resolve("output.json"))).getAsJsonArray().size();
    }
}
