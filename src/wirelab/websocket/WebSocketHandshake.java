package wirelab.websocket;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;

import wirelab.LogQuota;
import wirelab.Sockets;
import wirelab.Trace;


/**
 * The WebSocket opening handshake, RFC 6455 section 4.2, as {@link WebSocketServer} speaks it
 * on every new connection before the first frame. The client sends an HTTP/1.1 request:
 *
 * <pre>
 * GET /chat HTTP/1.1
 * Host: server.example.com
 * Upgrade: websocket
 * Connection: Upgrade
 * Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
 * Sec-WebSocket-Version: 13
 * </pre>
 *
 * and the server proves it read the key:
 *
 * <pre>
 * HTTP/1.1 101 Switching Protocols
 * Upgrade: websocket
 * Connection: Upgrade
 * Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=   (base64 of SHA-1 of key + GUID)
 * </pre>
 *
 * Anything else gets a short plain HTTP answer ({@link HttpAnswer}): 400 with the reason (a
 * request not read strictly as RFC 9112 writes it included), 403 for an {@code Origin}
 * the server does not take (section 10.2: a browser names the page that opens the WebSocket,
 * and any web page can try), 405 for a method other than GET, 426 naming version 13, 431 for
 * an oversized header section. A plain GET that is not an upgrade at all is for the server's
 * {@code plainHttp} handler: {@link WebSocketServer} sends it there.
 */
final class WebSocketHandshake {

    private static final System.Logger log = System.getLogger("websocket-server");

    /** Appended to Sec-WebSocket-Key before hashing: the RFC's fixed GUID (section 1.3). */
    static final String WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private WebSocketHandshake() {
    }

    /**
     * Reads the request: its head, within the deadline and the size limit, read strictly, and a
     * GET. Returns it not yet answered (the server then sends a plain GET to its handler, and
     * checks an upgrade with {@link #refusal}), or null when the connection already got an HTTP
     * answer instead (400, 405, 431), was dropped for being too slow, or went away. Each refusal
     * is told to {@code refused}: its status, or 408 for one dropped unanswered.
     */
    static HttpRequest read(Socket socket, InputStream in, OutputStream out, String peer, LogQuota lines,
                            WebSocketServer.Options options, IntConsumer refused) throws IOException {
        long deadline = System.nanoTime() + options.handshakeTimeoutMs() * 1_000_000L;
        String head;
        try {
            head = readHeaderSection(socket, in, deadline, options.maxHeaderBytes());
        } catch (SocketTimeoutException e) {
            lines.log(log, INFO, peer + " did not finish its opening handshake within " + options.handshakeTimeoutMs()
                    + " ms; dropped");
            refused.accept(408);
            return null;
        } catch (EOFException e) {
            log.log(DEBUG, peer + " closed before finishing its request");
            return null;
        }
        if (head == null) {
            HttpAnswer.write(out, HttpResponse.text(431, "the header section is larger than " + options.maxHeaderBytes() + " bytes"), peer, lines);
            refused.accept(431);
            return null;
        }
        if (Trace.on()) {
            traceRequest(peer, head);
        }
        HttpRequest request;
        try {
            request = parseRequest(head);
        } catch (MalformedRequest e) {
            HttpAnswer.write(out, HttpResponse.text(400, e.getMessage()), peer, lines);
            refused.accept(400);
            return null;
        }
        if (!request.method().equals("GET")) {
            HttpAnswer.write(out, new HttpResponse(405, Map.of("Allow", "GET", "Content-Type", "text/plain; charset=utf-8"),
                    ("expected GET, got " + request.method() + "\n").getBytes(StandardCharsets.UTF_8)), peer, lines);
            refused.accept(405);
            return null;
        }
        return request;
    }

    /**
     * null when the request is a WebSocket upgrade this server takes; else the answer that
     * refuses it: 400 or 426 for a request that is not a valid upgrade, 403 for an Origin the
     * server does not take.
     */
    static HttpResponse refusal(HttpRequest request, WebSocketServer.Options options) {
        HttpResponse refusal = upgradeRefusal(request);
        if (refusal != null) {
            return refusal;
        }
        String origin = request.header("origin");
        if (!origin.isEmpty() && !options.originAllowed().test(origin)) {
            return HttpResponse.text(403, "Origin " + origin + " may not open a WebSocket here: a web page from "
                    + "another site could otherwise act on this server (RFC 6455 section 10.2)");
        }
        return null;
    }

    /** True when the request asks for a WebSocket; else it is a plain GET. */
    static boolean isUpgrade(HttpRequest request) {
        // A server may ignore an Upgrade to anything else (RFC 9110 section 7.8), such as the
        // "Upgrade: h2c" the JDK's HttpClient sends.
        return request.headerHasToken("upgrade", "websocket");
    }

    /** 101 Switching Protocols: from the next byte on, both sides speak frames. */
    static void accept(OutputStream out, HttpRequest request, String peer) throws IOException {
        String accept = acceptFor(request.header("sec-websocket-key"));
        if (Trace.on()) {
            Trace.sent(peer, "HTTP/1.1 101 Switching Protocols", "Sec-WebSocket-Accept: " + accept + " = base64(SHA-1(\""
                    + request.header("sec-websocket-key") + "\" + \"" + WEBSOCKET_GUID + "\"))");
        }
        out.write(("HTTP/1.1 101 Switching Protocols\r\n"
                + "Upgrade: websocket\r\n"
                + "Connection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        log.log(DEBUG, peer + " upgraded to WebSocket on " + request.target());
    }

    /**
     * Reads up to the blank line that ends the headers. The deadline covers the whole section,
     * so a client sending a byte now and then (slowloris) is still dropped on time. Returns
     * null when the section grows past the limit.
     */
    static String readHeaderSection(Socket socket, InputStream in, long deadline, int maxHeaderBytes)
            throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        byte[] one = new byte[1];
        int matched = 0;   // how much of "\r\n\r\n" we have just seen
        while (matched < 4) {
            if (Sockets.readBefore(deadline, socket, in, one, 0, 1, "the opening handshake") < 0) {
                throw new EOFException();
            }
            if (head.size() >= maxHeaderBytes) {
                return null;
            }
            int b = one[0];
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    /** --trace: the request line, then the headers the opening handshake turns on, one line each. */
    private static void traceRequest(String peer, String head) {
        String[] lines = head.split("\r\n");
        Trace.received(peer, lines[0], "HTTP request line (" + head.length() + " bytes of head in all)");
        for (int i = 1; i < lines.length; i++) {
            String name = lines[i].contains(":") ? lines[i].substring(0, lines[i].indexOf(':')).trim().toLowerCase(Locale.ROOT) : "";
            if (name.equals("upgrade") || name.equals("connection") || name.startsWith("sec-websocket-") || name.equals("origin")) {
                Trace.received(peer, lines[i], "header the opening handshake checks (RFC 6455 4.2.1)");
            }
        }
    }

    /** A request that is not HTTP/1.1 as RFC 9112 writes it; the message says what was wrong. */
    private static final class MalformedRequest extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedRequest(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Request line and headers, read strictly (RFC 9112 sections 3 and 5): a field is
     * {@code name ":" OWS value OWS} with a token for a name. Whitespace between the name and its
     * colon, a line folded onto the one before (obs-fold), a bare CR or LF, and a second Host
     * are refused: servers and the proxies in front of them that read such a request differently
     * are how requests get smuggled past a check.
     */
    private static HttpRequest parseRequest(String head) throws MalformedRequest {
        String[] lines = head.substring(0, head.length() - 4).split("\r\n", -1);   // the head ends in CRLF CRLF
        String[] requestLine = lines[0].split(" ", -1);
        if (requestLine.length != 3 || !requestLine[2].equals("HTTP/1.1") || !isToken(requestLine[0])
                || requestLine[1].isEmpty() || hasBareCrOrLf(lines[0])) {
            throw new MalformedRequest("expected a request line 'METHOD target HTTP/1.1', got '" + visible(lines[0]) + "'");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith(" ") || line.startsWith("\t")) {
                throw new MalformedRequest("a header line may not start with whitespace (obs-fold, RFC 9112 section 5.2): '"
                        + visible(line) + "'");
            }
            if (hasBareCrOrLf(line)) {
                throw new MalformedRequest("a bare CR or LF inside a header line (RFC 9112 section 2.2): '" + visible(line) + "'");
            }
            int colon = line.indexOf(':');
            String name = colon < 0 ? line : line.substring(0, colon);
            if (colon <= 0 || !isToken(name)) {
                throw new MalformedRequest(name.endsWith(" ") || name.endsWith("\t")
                        ? "no whitespace may stand between a header's name and its colon (RFC 9112 section 5.1): '" + visible(line) + "'"
                        : "expected a header 'Name: value', got '" + visible(line) + "'");
            }
            String key = name.toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).strip();
            if (key.equals("host") && headers.containsKey("host")) {
                throw new MalformedRequest("a request has exactly one Host header (RFC 9110 section 7.2); this one has two");
            }
            headers.merge(key, value, (earlier, later) -> earlier + ", " + later);
        }
        return new HttpRequest(requestLine[0], requestLine[1], headers);
    }

    /** RFC 9110's token: the characters a method or a field name may hold. */
    private static boolean isToken(String text) {
        if (text.isEmpty()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0)) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasBareCrOrLf(String line) {
        return line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0;
    }

    /** A line as an error message can show it: control characters escaped, cut at 100 characters. */
    private static String visible(String line) {
        StringBuilder shown = new StringBuilder();
        for (char c : line.substring(0, Math.min(line.length(), 100)).toCharArray()) {
            shown.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return shown + (line.length() > 100 ? "..." : "");
    }

    /** null when the request is a valid WebSocket upgrade; else the answer that says what is wrong with it. */
    private static HttpResponse upgradeRefusal(HttpRequest request) {
        if (!request.headerHasToken("connection", "upgrade")) {
            return HttpResponse.text(400, "expected a Connection header holding 'Upgrade', got '" + request.header("connection") + "'");
        }
        if (request.header("host").isEmpty()) {
            return HttpResponse.text(400, "expected a Host header");
        }
        if (!request.header("sec-websocket-version").equals("13")) {   // 426 names the version we speak (4.4)
            return new HttpResponse(426, Map.of("Sec-WebSocket-Version", "13", "Content-Type", "text/plain; charset=utf-8"),
                    ("Sec-WebSocket-Version must be 13, got '" + request.header("sec-websocket-version") + "'\n")
                            .getBytes(StandardCharsets.UTF_8));
        }
        String key = request.header("sec-websocket-key");
        try {
            if (Base64.getDecoder().decode(key).length == 16) {
                return null;
            }
        } catch (IllegalArgumentException e) {
            // not base64: reported below
        }
        return HttpResponse.text(400, "Sec-WebSocket-Key must be 16 bytes in base64, got '" + key + "'");
    }

    /** Sec-WebSocket-Accept = base64(SHA-1(Sec-WebSocket-Key + GUID)), section 4.2.2. */
    static String acceptFor(String key) {
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] digest = sha1.digest((key + WEBSOCKET_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-1", e);
        }
    }
}
