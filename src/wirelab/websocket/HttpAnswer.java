package wirelab.websocket;

import static java.lang.System.Logger.Level.INFO;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import wirelab.LogQuota;
import wirelab.Trace;

/**
 * Writes an HTTP/1.1 answer on a connection that does not become a WebSocket: a refusal of the
 * handshake, or what the server's {@code plainHttp} handler answered to a plain GET. A whole
 * answer carries its Content-Length; a streamed one (Server-Sent Events) is written until the
 * client hangs up or the handler ends it. Every answer ends the connection
 * ({@code Connection: close}): this server keeps no HTTP connection alive.
 */
final class HttpAnswer {

    private static final System.Logger log = System.getLogger("websocket-server");

    private static final Map<Integer, String> REASON_PHRASES = Map.ofEntries(
            Map.entry(101, "Switching Protocols"), Map.entry(200, "OK"), Map.entry(400, "Bad Request"),
            Map.entry(403, "Forbidden"), Map.entry(404, "Not Found"), Map.entry(405, "Method Not Allowed"),
            Map.entry(421, "Misdirected Request"), Map.entry(426, "Upgrade Required"),
            Map.entry(431, "Request Header Fields Too Large"), Map.entry(500, "Internal Server Error"),
            Map.entry(503, "Service Unavailable"));

    private HttpAnswer() {
    }

    /**
     * Answers a plain GET: writes what the handler answered, and for a streamed answer first
     * sets a watcher on the client's side of the connection (see {@link #interruptOnHangUp}).
     */
    static void plainGet(Socket socket, InputStream in, OutputStream out, HttpResponse answer, String peer,
                         LogQuota lines) throws IOException {
        if (answer.streamWriter() != null) {
            interruptOnHangUp(socket, in);
        }
        write(out, answer, peer, lines);
    }

    static void write(OutputStream out, HttpResponse response, String peer, LogQuota lines) throws IOException {
        StringBuilder head = new StringBuilder("HTTP/1.1 ").append(response.status()).append(' ')
                .append(REASON_PHRASES.getOrDefault(response.status(), "Error")).append("\r\n");
        response.headers().forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
        if (response.streamWriter() == null) {
            head.append("Content-Length: ").append(response.body().length).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");   // a streamed body ends when the connection does
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(response.body());
        out.flush();
        if (Trace.on()) {
            Trace.sent(peer, "HTTP/1.1 " + response.status() + " " + REASON_PHRASES.getOrDefault(response.status(), "Error"),
                    response.streamWriter() != null ? "a stream of " + response.headers().get("Content-Type")
                            : response.body().length + " bytes of " + response.headers().getOrDefault("Content-Type", "body"));
        }
        if (response.status() >= 400) {
            lines.log(log, INFO, peer + ": HTTP " + response.status() + ": " + new String(response.body(), StandardCharsets.UTF_8).trim());
        }
        if (response.streamWriter() != null) {
            response.streamWriter().writeTo(out);
        }
    }

    /**
     * A streamed body waits for things to send, and would only notice a client that hung up at
     * its next write. A reader on the side sees the end of the client's input at once and
     * interrupts the streaming thread, which then lets go of what it held.
     */
    private static void interruptOnHangUp(Socket socket, InputStream in) throws IOException {
        Thread streaming = Thread.currentThread();
        socket.setSoTimeout(0);
        Thread.ofVirtual().name("hang-up-watch").start(() -> {
            try {
                while (in.read() >= 0) {
                    // a client of an event stream has nothing more to say; whatever it sends is ignored
                }
            } catch (IOException e) {
                // reset or closed: the same as hanging up
            }
            streaming.interrupt();
        });
    }
}
