package wirelab.p2p;

import static java.lang.System.Logger.Level.WARNING;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

/**
 * One connection's queue of messages to send, and the virtual thread that sends them in order.
 * Gossip is passed on from whichever thread stored a transaction; a peer that stops reading
 * must not stall it, nor the other peers. So a send only queues; a peer that lets
 * {@link #CAPACITY} messages pile up is dropped, as is one whose write fails.
 */
final class Outbox {

    private static final System.Logger log = System.getLogger("peer-node");
    static final int CAPACITY = 10_000;

    /** Writes one message on the connection, blocking until it is written; throws if it cannot be. */
    interface Writer {
        void write(String text) throws Exception;
    }

    private final String peer;
    private final BlockingQueue<String> queue = new LinkedBlockingQueue<>(CAPACITY);
    private final Thread sender;
    private final Consumer<String> drop;
    /** Queued after the messages that must go first; the sender runs {@link #last} when it comes to it. Compared by identity. */
    private static final String THEN_CLOSE = new String("then close");
    private volatile Runnable last;

    /** Starts the sending thread; {@code drop} ends the connection, with why, when the peer falls behind or a write fails. */
    Outbox(String peer, Writer writer, Consumer<String> drop) {
        this.peer = peer;
        this.drop = drop;
        this.sender = Thread.ofVirtual().name("sender-" + peer).start(() -> sendLoop(writer));
    }

    void send(String text) {
        if (!queue.offer(text)) {
            log.log(WARNING, peer + " is not keeping up (" + CAPACITY + " messages queued); dropping it");
            drop.accept("outbox full");
        }
    }

    /** Runs {@code close} once every message queued before it is written: a close frame never overtakes them. */
    void thenClose(Runnable close) {
        last = close;
        if (!queue.offer(THEN_CLOSE)) {
            close.run();
        }
    }

    /** The sending thread stops; what is still queued is not sent. */
    void stop() {
        sender.interrupt();
    }

    private void sendLoop(Writer writer) {
        try {
            while (true) {
                String text = queue.take();
                if (text == THEN_CLOSE) {
                    last.run();
                    return;
                }
                writer.write(text);
            }
        } catch (InterruptedException e) {
            // stopped
        } catch (Exception e) {
            drop.accept("send failed: " + OutgoingConnection.rootMessage(e));
        }
    }
}
