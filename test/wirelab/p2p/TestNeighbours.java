package wirelab.p2p;

import java.util.List;

/** Neighbours without a socket, for tests of decisions: each sends through a function that keeps what it was sent. */
final class TestNeighbours {

    private static final Sources sources = new Sources(1 << 20);

    private TestNeighbours() {
    }

    /** A neighbour of ours at {@code address}, its link lazy; what it is sent is added to {@code sent} (a thread-safe list). */
    static Neighbour ours(String address, List<String> sent) {
        Outbox outbox = new Outbox(address, sent::add, 1 << 20, why -> { });
        Neighbour neighbour = new Neighbour(address, Neighbour.Direction.OUTGOING, address, new Link(),
                sources.of("127.0.0.1", address), NodeConfig.Limits.defaults(100), outbox, (code, reason) -> { },
                payload -> { }, new MessageCounts());
        neighbour.showedItSpeaksWirelab();
        return neighbour;
    }
}
