package wirelab.exchange;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ExchangeServerTest {

    private ExchangeServer server;

    private ExchangeServer start(ExchangeServer.Options options) throws IOException {
        server = ExchangeServer.start(options.withPort(0));
        return server;
    }

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void defaultBookDecodesToTheOriginalsValues() throws Exception {
        start(ExchangeServer.Options.original().withDrops(0, null));
        List<Packet> packets = SeedClient.streamAll(server.port());
        assertEquals(ExchangeServer.ORIGINAL_BOOK, packets);
        assertEquals(new Packet("AMZN", 'S', 15, 3020, 13), packets.get(12));
        // and the bytes are exactly the original's encoding: "AAPL" 'B' 50 100 1, big-endian
        assertArrayEquals(new byte[] {'A', 'A', 'P', 'L', 'B', 0, 0, 0, 50, 0, 0, 0, 100, 0, 0, 0, 1},
                ExchangeServer.ORIGINAL_BOOK.get(0).encode());
    }

    @Test
    void noDropsGivesAllFourteenThenCloses() throws Exception {
        start(ExchangeServer.Options.original().withDrops(0, null));
        try (Socket socket = SeedClient.connect(server.port())) {
            socket.getOutputStream().write(Packet.Request.streamAllPackets().encode());
            byte[] all = socket.getInputStream().readAllBytes();   // returns only when the server closes
            assertEquals(14 * Packet.SIZE, all.length);
        }
    }

    @Test
    void aSeedGivesTheSameDropsEveryTimeAndNeverDropsTheLast() throws Exception {
        start(ExchangeServer.Options.original().withDrops(0.5, 7L));
        List<Integer> first = sequences(SeedClient.streamAll(server.port()));
        assertTrue(first.size() < 14, "with p = 0.5 some packets should be dropped, got " + first);
        for (int run = 0; run < 5; run++) {
            assertEquals(first, sequences(SeedClient.streamAll(server.port())));
        }
        assertEquals(14, first.get(first.size() - 1));
    }

    @Test
    void theLastPacketIsNeverDroppedEvenAtDropProbabilityOne() throws Exception {
        start(ExchangeServer.Options.original().withDrops(1.0, null));
        for (int run = 0; run < 20; run++) {
            assertEquals(List.of(14), sequences(SeedClient.streamAll(server.port())));
        }
    }

    @Test
    void defaultDropsAreRandomAndKeepTheLast() throws Exception {
        start(ExchangeServer.Options.original());
        int total = 0;
        for (int run = 0; run < 40; run++) {
            List<Integer> got = sequences(SeedClient.streamAll(server.port()));
            assertEquals(14, got.get(got.size() - 1));
            total += got.size();
        }
        // 13 packets each kept with probability 3/4, plus the last: mean 10.75 a run.
        double mean = total / 40.0;
        assertTrue(mean > 9 && mean < 12.5, "mean packets per stream " + mean);
    }

    @Test
    void severalResendsAreAnsweredInOrderOnOneOpenConnection() throws Exception {
        start(ExchangeServer.Options.original());
        try (Socket socket = SeedClient.connect(server.port())) {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            // all three requests in one write: the server must still cut them into 2-byte requests
            socket.getOutputStream().write(new byte[] {2, 3, 2, 14, 2, 1});
            assertEquals(3, SeedClient.readPacket(in).sequence());
            assertEquals(14, SeedClient.readPacket(in).sequence());
            assertEquals(1, SeedClient.readPacket(in).sequence());
            // the connection stays open after a resend, as in the original
            socket.getOutputStream().write(Packet.Request.resendPacket(9).encode());
            assertEquals(ExchangeServer.ORIGINAL_BOOK.get(8), SeedClient.readPacket(in));
        }
    }

    @Test
    void aRequestWrittenOneByteAtATimeIsServed() throws Exception {
        start(ExchangeServer.Options.original());
        try (Socket socket = SeedClient.connect(server.port())) {
            socket.setTcpNoDelay(true);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            socket.getOutputStream().write(2);
            socket.getOutputStream().flush();
            Thread.sleep(100);
            socket.getOutputStream().write(5);
            assertEquals(ExchangeServer.ORIGINAL_BOOK.get(4), SeedClient.readPacket(in));
        }
    }

    @Test
    void unknownCallTypeClosesThatConnectionAndOthersAreServed() throws Exception {
        start(ExchangeServer.Options.original().withDrops(0, null));
        assertClosedWithoutAnswer(new byte[] {3, 0});
        assertClosedWithoutAnswer(new byte[] {(byte) 0xFF, 1});
        assertEquals(ExchangeServer.ORIGINAL_BOOK, SeedClient.streamAll(server.port()));
    }

    @Test
    void resendOfASequenceNotInTheBookClosesThatConnection() throws Exception {
        start(ExchangeServer.Options.original().withDrops(0, null));
        assertClosedWithoutAnswer(new byte[] {2, 0});
        assertClosedWithoutAnswer(new byte[] {2, -5});
        assertClosedWithoutAnswer(new byte[] {2, 15});
        assertClosedWithoutAnswer(new byte[] {2, (byte) 200});   // 200 reads as -56, as in the original
        assertEquals(ExchangeServer.ORIGINAL_BOOK, SeedClient.streamAll(server.port()));
    }

    @Test
    void aClientThatVanishesMidStreamHurtsNobody() throws Exception {
        start(ExchangeServer.Options.original().withPackets(200_000).withDrops(0, null));
        for (int i = 0; i < 5; i++) {
            try (Socket socket = SeedClient.connect(server.port())) {
                socket.setSoLinger(true, 0);   // close with RST, as a killed process would
                socket.getOutputStream().write(Packet.Request.streamAllPackets().encode());
                socket.getInputStream().readNBytes(Packet.SIZE * 3);
            }
        }
        List<Packet> packets = SeedClient.streamAll(server.port());
        assertEquals(200_000, packets.size());
        assertEquals(ExchangeServer.generatedBook(200_000), packets);
    }

    @Test
    void aClientThatClosesAfterHalfARequestHurtsNobody() throws Exception {
        start(ExchangeServer.Options.original().withDrops(0, null));
        try (Socket socket = SeedClient.connect(server.port())) {
            socket.getOutputStream().write(2);
        }
        assertEquals(14, SeedClient.streamAll(server.port()).size());
    }

    @Test
    void anIdleConnectionIsClosedAfterTheTimeout() throws Exception {
        start(ExchangeServer.Options.original().withIdleTimeoutMs(300));
        try (Socket socket = SeedClient.connect(server.port())) {
            long started = System.nanoTime();
            assertEquals(-1, socket.getInputStream().read());
            long waitedMs = (System.nanoTime() - started) / 1_000_000;
            assertTrue(waitedMs >= 250, "closed after " + waitedMs + " ms, before the idle timeout");
        }
    }

    @Test
    void aClientTricklingBytesAfterItsStreamCannotHoldTheConnectionOpen() throws Exception {
        start(ExchangeServer.Options.original());
        try (Socket socket = SeedClient.connect(server.port())) {
            socket.getOutputStream().write(Packet.Request.streamAllPackets().encode());
            socket.getInputStream().readAllBytes();   // the stream, up to the server's FIN
            long started = System.nanoTime();
            try {
                while (server.openConnectionCount() > 0 && System.nanoTime() - started < 5_000_000_000L) {
                    socket.getOutputStream().write(0);   // a byte every 100 ms keeps a per-read timeout alive
                    Thread.sleep(100);
                }
            } catch (java.io.IOException closedByServer) {
                // the server has closed: that is the point
            }
            long ms = (System.nanoTime() - started) / 1_000_000;
            assertEquals(0, server.openConnectionCount());
            assertTrue(ms < 3_000, "the server held the connection for " + ms + " ms");
        }
    }

    @Test
    void stopClosesEveryOpenConnection() throws Exception {
        start(ExchangeServer.Options.original());
        try (Socket socket = SeedClient.connect(server.port())) {
            socket.getOutputStream().write(Packet.Request.resendPacket(1).encode());
            SeedClient.readPacket(new DataInputStream(socket.getInputStream()));
            server.close();
            server = null;
            assertEquals(-1, socket.getInputStream().read());
        }
    }

    @Test
    void aGeneratedBookCyclesSymbolsWithContiguousSequences() throws Exception {
        start(ExchangeServer.Options.original().withPackets(1000).withDrops(0, null));
        List<Packet> packets = SeedClient.streamAll(server.port());
        assertEquals(1000, packets.size());
        for (int i = 0; i < packets.size(); i++) {
            assertEquals(i + 1, packets.get(i).sequence());
            assertEquals(List.of("AAPL", "META", "MSFT", "AMZN").get(i % 4), packets.get(i).symbol());
        }
    }

    @Test
    void aThousandConcurrentClientsEachGetACorrectStream() throws Exception {
        start(ExchangeServer.Options.original().withDrops(0.25, null));
        List<Callable<List<Packet>>> clients = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            clients.add(() -> SeedClient.streamAll(server.port()));
        }
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (Future<List<Packet>> result : executor.invokeAll(clients)) {
                List<Packet> packets = result.get();
                assertFalse(packets.isEmpty());
                assertEquals(14, packets.get(packets.size() - 1).sequence());
                for (Packet packet : packets) {
                    assertEquals(ExchangeServer.ORIGINAL_BOOK.get(packet.sequence() - 1), packet);
                }
            }
        }
    }

    private void assertClosedWithoutAnswer(byte[] request) throws IOException {
        try (Socket socket = SeedClient.connect(server.port())) {
            socket.getOutputStream().write(request);
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            in.transferTo(answer);
            assertEquals(0, answer.size(), "expected the server to close without answering");
        }
    }

    private static List<Integer> sequences(List<Packet> packets) {
        return packets.stream().map(Packet::sequence).toList();
    }
}
