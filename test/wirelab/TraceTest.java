package wirelab;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import wirelab.exchange.ExchangeServer;
import wirelab.websocket.IncomingConnection;
import wirelab.websocket.RawWebSocket;
import wirelab.websocket.WebSocketServer;

/** --trace shows known bytes as the protocols' tables name them. */
@Timeout(30)
class TraceTest {

    private final ByteArrayOutputStream traced = new ByteArrayOutputStream();

    @BeforeEach
    void traceIntoMemory() {
        Trace.enable(new PrintStream(traced, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void stopTracing() {
        Trace.disable();
    }

    private String trace() {
        return traced.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theOriginalBooksFirstPacketIsShownByFieldAndDecoded() throws Exception {
        try (ExchangeServer server = ExchangeServer.start(ExchangeServer.Options.original().withPort(0).withDrops(0, null));
             Socket client = new Socket()) {
            client.connect(new InetSocketAddress("127.0.0.1", server.port()));
            client.getOutputStream().write(new byte[] {1, 0});
            client.getInputStream().readAllBytes();
        }
        assertTrue(trace().matches("(?s).*127\\.0\\.0\\.1:\\d+ <- 01 00 +request: call type 1, stream all packets\n.*"), trace());
        assertTrue(trace().matches("(?s).*127\\.0\\.0\\.1:\\d+ -> 4141504c 42 00000032 00000064 00000001 +"
                + "AAPL  B  quantity 50  price 100  sequence 1\n.*"), trace());
        assertTrue(trace().contains("AMZN  S  quantity 10  price 3015  sequence 14"), trace());
    }

    @Test
    void theRfcsMaskedHelloFrameIsShownWithItsHeaderKeyAndText() throws Exception {
        try (WebSocketServer server = WebSocketServer.start(WebSocketServer.Options.onPort(0), (IncomingConnection connection, String text) -> {
            try {
                connection.send(text);   // the RFC's unmasked "Hello" from the server, section 5.7
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }); RawWebSocket raw = RawWebSocket.open(server.port())) {
            raw.socket.getOutputStream().write(HexFormat.of().parseHex("818537fa213d7f9f4d5158"));   // RFC 6455 5.7
            raw.readFrame();
        }
        assertTrue(trace().contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="), trace());
        assertTrue(trace().contains("HTTP/1.1 101 Switching Protocols") && trace().contains("Sec-WebSocket-Accept: "
                + "s3pPLMBiTxaQ9kYGzzhZRbK+xOo= = base64(SHA-1(\"dGhlIHNhbXBsZSBub25jZQ==\" + \"258EAFA5-E914-47DA-95CA-C5AB0DC85B11\"))"),
                trace());
        assertTrue(trace().matches("(?s).*<- 81 85 37fa213d 7f9f4d5158 +FIN TEXT\\(0x1\\) MASK len 5 \\(7-bit\\) key 37fa213d: \"Hello\"\n.*"),
                trace());
        assertTrue(trace().matches("(?s).*-> 81 05 48656c6c6f +FIN TEXT\\(0x1\\) len 5 \\(7-bit\\): \"Hello\"\n.*"), trace());
    }

    @Test
    void aLongPayloadIsCutWithACountOfWhatWasLeftOut() {
        byte[] payload = new byte[100];
        assertTrue(Trace.payloadHex(payload).endsWith("... (+76 bytes)"));
        assertTrue(Trace.quote("x".repeat(100)).endsWith("... (+40 chars)"));
    }
}
