package wirelab.websocket;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A whole HTTP response, for a request that does not become a WebSocket: a page, JSON, or a
 * refusal. Or a stream ({@link #stream}): a head, then whatever the writer sends for as long as
 * it likes (Server-Sent Events), on the connection's own thread, until the writer returns.
 */
public record HttpResponse(int status, Map<String, String> headers, byte[] body, BodyWriter streamWriter) {

    /** Writes a streamed body; returns when the stream is over (the client left, or the server stops). */
    public interface BodyWriter {
        void writeTo(OutputStream out) throws IOException;
    }

    public HttpResponse(int status, Map<String, String> headers, byte[] body) {
        this(status, headers, body, null);
    }

    /** A short plain-text answer, e.g. {@code text(404, "nothing at /x")}. */
    public static HttpResponse text(int status, String message) {
        return new HttpResponse(status, Map.of("Content-Type", "text/plain; charset=utf-8"),
                (message + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The same response with more headers, e.g. the CORS headers a router adds to every answer. */
    public HttpResponse withHeaders(Map<String, String> more) {
        Map<String, String> all = new java.util.LinkedHashMap<>(headers);
        all.putAll(more);
        return new HttpResponse(status, Map.copyOf(all), body, streamWriter);
    }

    /** A 200 whose body is written by {@code writer} as it goes, with no Content-Length. */
    public static HttpResponse stream(Map<String, String> headers, BodyWriter writer) {
        return new HttpResponse(200, headers, new byte[0], writer);
    }
}
