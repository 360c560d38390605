package wirelab.websocket;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/** A whole HTTP response, for a request that does not become a WebSocket: a page, JSON, or a refusal. */
public record HttpResponse(int status, Map<String, String> headers, byte[] body) {

    /** A short plain-text answer, e.g. {@code text(404, "nothing at /x")}. */
    public static HttpResponse text(int status, String message) {
        return new HttpResponse(status, Map.of("Content-Type", "text/plain; charset=utf-8"),
                (message + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
