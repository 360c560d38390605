package wirelab.exchange;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.net.Socket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import wirelab.Sockets;
import wirelab.Trace;

/**
 * Asks the server again for one packet: call type 2 with the sequence, on a connection of its
 * own, within the request's deadline; on failure, again after a backoff, up to {@code --retries}
 * more times. The answer must be the sequence asked for. {@link ExchangeClient} runs one of
 * these per missing packet, all at once.
 */
final class Resend {

    private static final System.Logger log = System.getLogger("exchange-client");

    private final ExchangeClient.Options options;
    private final AtomicInteger retries;   // every attempt after a first, for the summary

    Resend(ExchangeClient.Options options, AtomicInteger retries) {
        this.options = options;
        this.retries = retries;
    }

    /** One sequence, with bounded retries and backoff; the exception says why the last attempt failed. */
    Packet recover(int sequence) throws IOException {
        String lastReason = null;
        for (int attempt = 0; attempt <= options.retries(); attempt++) {
            if (attempt > 0) {
                retries.incrementAndGet();
                backOff(attempt);
            }
            try {
                Packet packet = requestResend(sequence);
                log.log(INFO, "recovered sequence " + sequence);
                return packet;
            } catch (IOException e) {
                lastReason = e.getMessage() == null ? e.toString() : e.getMessage();
                log.log(WARNING, "resend of sequence " + sequence + ", attempt " + (attempt + 1) + " of "
                        + (options.retries() + 1) + ": " + lastReason);
            }
        }
        throw new IOException(lastReason + ", after " + (options.retries() + 1) + " attempts");
    }

    /** One call type 2 request on its own connection; the answer must be the sequence asked for. */
    private Packet requestResend(int sequence) throws IOException {
        long deadline = System.nanoTime() + options.timeoutMs() * 1_000_000L;
        try (Socket socket = Sockets.connect(options.host(), options.port(), deadline)) {
            socket.getOutputStream().write(Packet.Request.resendPacket(sequence).encode());
            String server = options.host() + ":" + options.port() + " resend";
            if (Trace.on()) {
                Trace.sent(server, Packet.Request.resendPacket(sequence).hexByField(), Packet.Request.resendPacket(sequence).meaning());
            }
            byte[] bytes = new byte[Packet.SIZE];
            int filled = 0;
            while (filled < Packet.SIZE) {
                int n = Sockets.readBefore(deadline, socket, socket.getInputStream(), bytes, filled, Packet.SIZE - filled,
                        "resend of sequence " + sequence);
                if (n < 0) {
                    throw new EOFException("server closed after " + filled + " of the " + Packet.SIZE
                            + " bytes of the resent packet");
                }
                filled += n;
            }
            if (Trace.on()) {
                Packet.trace(server, true, bytes, 0, Packet.SIZE);
            }
            Packet packet = Packet.decode(bytes);
            if (packet.sequence() != sequence) {
                throw new ProtocolException("asked for sequence " + sequence + ", got sequence " + packet.sequence());
            }
            return packet;
        }   // the original server never closes after a resend: we do
    }

    /** 100 ms, 200, 400, 800, then 1 s for every later attempt (a shift past 5 would only overflow, at 58). */
    static long backoffMs(int attempt) {
        return attempt >= 5 ? 1_000 : Math.min(1_000, 50L << attempt);
    }

    private static void backOff(int attempt) {
        long base = backoffMs(attempt);
        try {
            Thread.sleep(base + ThreadLocalRandom.current().nextLong(base / 2 + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
