package wirelab.p2p;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.BiConsumer;

/**
 * The one door every outgoing connection attempt goes through: attempts start one at a time,
 * at most one each {@code DIAL_INTERVAL_MS}, in the order asked for. Bitcoin Core's
 * ThreadOpenConnections opens outbound connections the same way, one at a time and paced, so
 * that nothing a peer says (a HANDSHAKE full of fresh addresses, a dial-back asked for again
 * and again) can make a node dial in a burst. Only addresses already in
 * {@code attemptingToConnectToAddress} are queued, so the queue is as bounded as that set.
 */
final class Dialer {

    private record Attempt(String address, String learnedFrom) {
    }

    private final BlockingQueue<Attempt> queue = new LinkedBlockingQueue<>();
    private final Thread thread;

    /** Starts the dialing thread; {@code dial} opens one connection, given the address and where it was learned. */
    Dialer(long intervalMs, BiConsumer<String, String> dial) {
        this.thread = Thread.ofVirtual().name("peer-dialer").start(() -> {
            try {
                while (true) {
                    Attempt next = queue.take();
                    dial.accept(next.address(), next.learnedFrom());
                    Thread.sleep(intervalMs);
                }
            } catch (InterruptedException e) {
                // the node is stopping
            }
        });
    }

    /** Queues an attempt; it starts once the ones before it have, one interval apart. */
    void dial(String address, String learnedFrom) {
        queue.add(new Attempt(address, learnedFrom));
    }

    void stop() {
        thread.interrupt();
    }
}
