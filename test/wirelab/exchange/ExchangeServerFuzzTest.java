package wirelab.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Seeded hostile clients against the exchange server: random bytes of random lengths, requests
 * cut in half, clients that vanish mid-stream, clients that connect and never write.
 */
@Timeout(60)
class ExchangeServerFuzzTest {

    @Test
    void hostileClientsLeaveTheServerServingAndItsThreadsBackAtBaseline() throws Exception {
        List<Throwable> escaped = new CopyOnWriteArrayList<>();
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, error) -> escaped.add(error));
        try (ExchangeServer server = ExchangeServer.start(ExchangeServer.Options.original()
                .withPort(0).withPackets(2_000).withIdleTimeoutMs(1_000))) {
            List<Socket> silent = new ArrayList<>();
            for (int i = 0; i < 20; i++) {   // open and never write: the idle timeout must close them
                silent.add(SeedClient.connect(server.port()));
            }
            try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int worker = 0; worker < 40; worker++) {
                    long seed = 1_000 + worker;
                    clients.submit(() -> {
                        Random random = new Random(seed);
                        for (int round = 0; round < 25; round++) {
                            misbehave(server.port(), random);
                        }
                        return null;
                    });
                }
            }
            // a normal client still gets a correct stream
            List<Packet> packets = SeedClient.streamAll(server.port());
            assertEquals(2_000, packets.get(packets.size() - 1).sequence());
            for (Packet packet : packets) {
                assertEquals(ExchangeServer.generatedBook(2_000).get(packet.sequence() - 1), packet);
            }
            // the silent ones are closed by the server, and every connection thread ends
            for (Socket socket : silent) {
                assertEquals(-1, socket.getInputStream().read(), "an idle connection should be closed by the server");
                socket.close();
            }
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (server.openConnectionCount() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(0, server.openConnectionCount(), "connection threads should return to the baseline");
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
        assertEquals(List.of(), escaped, "no exception may escape a connection thread");
    }

    private static void misbehave(int port, Random random) throws IOException {
        try (Socket socket = SeedClient.connect(port)) {
            socket.setSoTimeout(3_000);
            switch (random.nextInt(5)) {
                case 0 -> {   // random bytes of a random length, then read whatever comes
                    byte[] noise = new byte[random.nextInt(64)];
                    random.nextBytes(noise);
                    socket.getOutputStream().write(noise);
                    socket.shutdownOutput();
                    drain(socket.getInputStream());
                }
                case 1 -> socket.getOutputStream().write(random.nextBoolean() ? 1 : 2);   // half a request, then gone
                case 2 -> {   // vanish in the middle of a stream, with a reset
                    socket.getOutputStream().write(Packet.Request.streamAllPackets().encode());
                    socket.getInputStream().readNBytes(random.nextInt(Packet.SIZE * 100));
                    socket.setSoLinger(true, 0);
                }
                case 3 -> {   // a valid resend, then garbage on the same connection
                    socket.getOutputStream().write(new byte[] {2, (byte) (1 + random.nextInt(127)), (byte) random.nextInt(256), 7});
                    socket.shutdownOutput();
                    drain(socket.getInputStream());
                }
                default -> { /* connect and leave at once */ }
            }
        } catch (IOException e) {
            // the server may reset a connection it refuses; that is its right
        }
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buffer = new byte[4096];
        while (in.read(buffer) >= 0) {
            // read until the server closes
        }
    }
}
