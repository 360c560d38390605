package wirelab.websocket;

import java.util.Map;

/**
 * The request line and headers of an HTTP/1.1 request, as {@link WebSocketHandshake} read
 * them: an opening handshake, or a plain GET that the server's user answers. Header names are
 * lower case; a header sent twice holds both values joined by ", " (RFC 9110 section 5.3).
 */
public record HttpRequest(String method, String target, Map<String, String> headers) {

    /** The header's value, or "" when the request has none. */
    public String header(String name) {
        return headers.getOrDefault(name, "");
    }

    /** The target without its query: "/status?x=1" is "/status". */
    public String path() {
        int query = target.indexOf('?');
        return query < 0 ? target : target.substring(0, query);
    }

    /** True when the comma-separated header {@code name} holds {@code token}, ignoring case. */
    public boolean headerHasToken(String name, String token) {
        for (String part : header(name).split(",")) {
            if (part.trim().equalsIgnoreCase(token)) {
                return true;
            }
        }
        return false;
    }
}
