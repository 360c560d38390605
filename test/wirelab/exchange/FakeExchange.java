package wirelab.exchange;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A misbehaving exchange for client tests: it reads 2-byte requests like the real one and
 * lets each test decide how to answer them. Bound to loopback on a free port.
 */
final class FakeExchange implements AutoCloseable {

    /** Answers one request; returns false to close the connection. */
    interface Answer {
        boolean answer(Packet.Request request, OutputStream out) throws Exception;
    }

    private final ServerSocket serverSocket;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

    FakeExchange(Answer answer) throws IOException {
        serverSocket = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!serverSocket.isClosed()) {
                try {
                    Socket socket = serverSocket.accept();
                    sockets.add(socket);
                    Thread.ofVirtual().start(() -> serve(socket, answer));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    private void serve(Socket socket, Answer answer) {
        try (socket) {
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] request = new byte[2];
            while (true) {
                in.readFully(request);
                if (!answer.answer(Packet.Request.decode(request), socket.getOutputStream())) {
                    return;
                }
            }
        } catch (EOFException e) {
            // the client closed: normal
        } catch (Exception e) {
            // the connection ends either way; the client under test reports what it saw
        } finally {
            sockets.remove(socket);
        }
    }

    int port() {
        return serverSocket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        serverSocket.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    static void write(OutputStream out, List<Packet> packets) throws IOException {
        for (Packet packet : packets) {
            out.write(packet.encode());
        }
        out.flush();
    }

    static List<Packet> book(int... sequences) {
        return java.util.Arrays.stream(sequences).mapToObj(s -> ExchangeServer.ORIGINAL_BOOK.get(s - 1)).toList();
    }
}
