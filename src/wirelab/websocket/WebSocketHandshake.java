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
import java.util.function.Function;

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
 * Anything else gets a short plain HTTP answer: 400 with the reason, 403 for an {@code Origin}
 * the server does not take (section 10.2: a browser names the page that opens the WebSocket,
 * and any web page can try), 405 for a method other than GET, 426 naming version 13, 431 for
 * an oversized header section. A plain GET that is not an upgrade at all goes to the server's
 * {@code plainHttp} handler.
 */
final class WebSocketHandshake {

    private static final System.Logger log = System.getLogger("websocket-server");

    /** Appended to Sec-WebSocket-Key before hashing: the RFC's fixed GUID (section 1.3). */
    static final String WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private static final Map<Integer, String> REASON_PHRASES = Map.of(
            101, "Switching Protocols", 200, "OK", 400, "Bad Request", 403, "Forbidden", 404, "Not Found",
            405, "Method Not Allowed", 426, "Upgrade Required", 431, "Request Header Fields Too Large",
            503, "Service Unavailable");

    private WebSocketHandshake() {
    }

    /**
     * Reads and checks the request. Returns a valid upgrade request, not yet answered (the
     * server answers with {@link #accept} or {@link #respond}), or null when the connection
     * already got an HTTP answer instead.
     */
    static HttpRequest read(Socket socket, InputStream in, OutputStream out, String peer,
                            WebSocketServer.Options options, Function<HttpRequest, HttpResponse> plainHttp)
            throws IOException {
        long deadline = System.nanoTime() + options.handshakeTimeoutMs() * 1_000_000L;
        String head;
        try {
            head = readHeaderSection(socket, in, deadline, options.maxHeaderBytes());
        } catch (SocketTimeoutException e) {
            log.log(INFO, peer + " did not finish its opening handshake within " + options.handshakeTimeoutMs()
                    + " ms; dropped");
            return null;
        } catch (EOFException e) {
            log.log(DEBUG, peer + " closed before finishing its request");
            return null;
        }
        if (head == null) {
            respond(out, HttpResponse.text(431, "the header section is larger than " + options.maxHeaderBytes() + " bytes"), peer);
            return null;
        }
        HttpRequest request = parseRequest(head);
        if (Trace.on()) {
            traceRequest(peer, head);
        }
        if (request == null) {
            respond(out, HttpResponse.text(400, "expected an HTTP/1.1 request line and 'Name: value' headers"), peer);
            return null;
        }
        if (!request.method().equals("GET")) {
            respond(out, new HttpResponse(405, Map.of("Allow", "GET", "Content-Type", "text/plain; charset=utf-8"),
                    ("expected GET, got " + request.method() + "\n").getBytes(StandardCharsets.UTF_8)), peer);
            return null;
        }
        // Not asking for a WebSocket: a plain GET. A server may ignore an Upgrade to anything else
        // (RFC 9110 section 7.8), such as the "Upgrade: h2c" the JDK's HttpClient sends.
        if (!request.headerHasToken("upgrade", "websocket")) {
            HttpResponse answer = plainHttp.apply(request);
            if (answer.streamWriter() != null) {
                interruptOnHangUp(socket, in);
            }
            respond(out, answer, peer);
            return null;
        }
        String problem = upgradeProblem(request);
        if (problem != null) {
            HttpResponse refusal = problem.startsWith("Sec-WebSocket-Version")
                    ? new HttpResponse(426, Map.of("Sec-WebSocket-Version", "13", "Content-Type", "text/plain; charset=utf-8"),
                            (problem + "\n").getBytes(StandardCharsets.UTF_8))
                    : HttpResponse.text(400, problem);
            respond(out, refusal, peer);
            return null;
        }
        String origin = request.header("origin");
        if (!origin.isEmpty() && !options.originAllowed().test(origin)) {
            respond(out, HttpResponse.text(403, "Origin " + origin + " may not open a WebSocket here: a web page from "
                    + "another site could otherwise act on this server (RFC 6455 section 10.2)"), peer);
            return null;
        }
        return request;
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

    /** Request line and headers; null when they are not HTTP/1.1 as RFC 9112 writes it. */
    private static HttpRequest parseRequest(String head) {
        String[] lines = head.split("\r\n");
        String[] requestLine = lines[0].split(" ");
        if (requestLine.length != 3 || !requestLine[2].equals("HTTP/1.1")) {
            return null;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                return null;
            }
            String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = lines[i].substring(colon + 1).trim();
            headers.merge(name, value, (earlier, later) -> earlier + ", " + later);
        }
        return new HttpRequest(requestLine[0], requestLine[1], headers);
    }

    /** null when the request is a valid WebSocket upgrade, else what is wrong with it. */
    private static String upgradeProblem(HttpRequest request) {
        if (!request.headerHasToken("connection", "upgrade")) {
            return "expected a Connection header holding 'Upgrade', got '" + request.header("connection") + "'";
        }
        if (request.header("host").isEmpty()) {
            return "expected a Host header";
        }
        if (!request.header("sec-websocket-version").equals("13")) {
            return "Sec-WebSocket-Version must be 13, got '" + request.header("sec-websocket-version") + "'";
        }
        String key = request.header("sec-websocket-key");
        try {
            if (Base64.getDecoder().decode(key).length == 16) {
                return null;
            }
        } catch (IllegalArgumentException e) {
            // not base64: reported below
        }
        return "Sec-WebSocket-Key must be 16 bytes in base64, got '" + key + "'";
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

    static void respond(OutputStream out, HttpResponse response, String peer) throws IOException {
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
            log.log(INFO, peer + ": HTTP " + response.status() + ": " + new String(response.body(), StandardCharsets.UTF_8).trim());
        }
        if (response.streamWriter() != null) {
            response.streamWriter().writeTo(out);
        }
    }
}
