package wirelab.exchange;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * Plays a client written for the original server, as the seed clients do: send [1, 0] and
 * read 17-byte packets until the server closes; send [2, seq] and read one packet.
 */
final class SeedClient {

    private SeedClient() {
    }

    static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
        socket.setSoTimeout(10_000);
        return socket;
    }

    static List<Packet> streamAll(int port) throws IOException {
        try (Socket socket = connect(port)) {
            socket.getOutputStream().write(Packet.Request.streamAllPackets().encode());
            byte[] all = socket.getInputStream().readAllBytes();
            if (all.length % Packet.SIZE != 0) {
                throw new IOException("stream of " + all.length + " bytes is not whole packets");
            }
            List<Packet> packets = new ArrayList<>();
            for (int offset = 0; offset < all.length; offset += Packet.SIZE) {
                packets.add(Packet.decode(all, offset, offset));
            }
            return packets;
        }
    }

    static Packet readPacket(DataInputStream in) throws IOException {
        byte[] bytes = new byte[Packet.SIZE];
        in.readFully(bytes);
        return Packet.decode(bytes);
    }
}
