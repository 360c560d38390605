package wirelab.p2p;

import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * One connection's queue of messages to send, and the virtual thread that sends them in order.
 * Gossip is passed on from whichever thread stored a transaction; a peer that stops reading
 * must not stall it, nor the other peers, nor fill this node's memory. So:
 *
 * <ul>
 * <li>a send only queues, and the queue is bounded in bytes ({@code MAX_SEND_QUEUE_BYTES}): a
 *     peer that lets more pile up is dropped at once;
 * <li>a long answer (catch-up's transactions, a GRAFT's) is not queued as text: it is a
 *     {@link Producer} that makes one message at a time, on the sending thread, only once the
 *     one before it is written. A peer that stops reading holds a few bytes of it, not the pool.
 *     Queued messages go first: gossip is not held up behind a catch-up;
 * <li>{@link #stalledMs} tells how long the write under way has been blocked, so the node drops
 *     a peer whose writes block past {@code SEND_TIMEOUT_MS} (its TCP window stays shut);
 * <li>a close ({@link #thenClose}) comes after what was queued before it, never after a
 *     producer's rest, and nothing is sent after it.
 * </ul>
 */
final class Outbox {

    /** Writes one message on the connection, blocking until it is written; throws if it cannot be. */
    interface Writer {
        void write(String text) throws Exception;
    }

    /** Messages made one at a time, each when the connection has taken the one before. */
    interface Producer {
        /** The next message's text, or null when there are no more. */
        String next();

        /** Lets go of what it holds (an open file); called once, whether it ran out or not. */
        void close();
    }

    private record Queued(String text, int bytes) {
    }

    private final long maxQueuedBytes;
    private final Consumer<String> drop;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final ArrayDeque<Queued> messages = new ArrayDeque<>();   // guarded by lock, as are the next four
    private final ArrayDeque<Producer> producers = new ArrayDeque<>();
    private long queuedBytes;
    private Runnable last;      // the close, once asked for: run when the messages before it are written
    private boolean stopped;
    private volatile long writingSinceNanos;   // 0 while no write is under way
    private final Thread sender;

    /**
     * Starts the sending thread; {@code drop} ends the connection, with why, when the peer
     * falls {@code maxQueuedBytes} behind, a write fails, or a producer breaks.
     */
    Outbox(String peer, Writer writer, long maxQueuedBytes, Consumer<String> drop) {
        this.maxQueuedBytes = maxQueuedBytes;
        this.drop = drop;
        this.sender = Thread.ofVirtual().name("sender-" + peer).start(() -> sendLoop(writer));
    }

    /** Queues one message of {@code bytes} UTF-8 bytes. A message alone in the queue always fits. */
    void send(String text, int bytes) {
        boolean overflow;
        lock.lock();
        try {
            if (stopped || last != null) {
                return;   // closed, or closing: nothing may follow the close frame
            }
            overflow = !messages.isEmpty() && queuedBytes + bytes > maxQueuedBytes;
            if (!overflow) {
                messages.add(new Queued(text, bytes));
                queuedBytes += bytes;
                work.signal();
            }
        } finally {
            lock.unlock();
        }
        if (overflow) {
            drop.accept("it is not keeping up: more than " + maxQueuedBytes + " bytes queued (MAX_SEND_QUEUE_BYTES)");
        }
    }

    /** Sends what the producer makes, after every message queued meanwhile. */
    void sendLazily(Producer producer) {
        lock.lock();
        try {
            if (!stopped && last == null) {
                producers.add(producer);
                work.signal();
                return;
            }
        } finally {
            lock.unlock();
        }
        producer.close();
    }

    /** Runs {@code close} once every message queued before it is written: a close frame never overtakes them. */
    void thenClose(Runnable close) {
        lock.lock();
        try {
            if (stopped || last != null) {
                return;
            }
            last = close;
            dropProducers();
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The sending thread stops; what is still queued is not sent. */
    void stop() {
        lock.lock();
        try {
            stopped = true;
            messages.clear();
            queuedBytes = 0;
            dropProducers();
        } finally {
            lock.unlock();
        }
        writingSinceNanos = 0;   // stopped: no longer a stall for the watchdog to see
        sender.interrupt();
    }

    /** How long the write under way has been blocked; 0 when none is. */
    long stalledMs() {
        long since = writingSinceNanos;
        return since == 0 ? 0 : (System.nanoTime() - since) / 1_000_000;
    }

    private void dropProducers() {   // under the lock
        producers.forEach(Producer::close);
        producers.clear();
    }

    private void sendLoop(Writer writer) {
        try {
            Next next;
            while ((next = next()) != null) {
                if (next.close() != null) {
                    next.close().run();
                    return;
                }
                String text = next.text();
                if (next.producer() != null) {
                    text = next.producer().next();
                    if (text == null) {
                        finished(next.producer());
                        continue;
                    }
                }
                writingSinceNanos = System.nanoTime();
                writer.write(text);
                writingSinceNanos = 0;
            }
        } catch (InterruptedException e) {
            // stopped
        } catch (Exception e) {
            drop.accept("send failed: " + OutgoingConnection.rootMessage(e));
        } finally {
            writingSinceNanos = 0;
        }
    }

    /** The writer's next step: a queued message's text, a producer to ask, or the close that comes last. */
    private record Next(String text, Producer producer, Runnable close) {
    }

    /** Waits for the next step; null once the outbox is stopped. Queued messages go before long answers. */
    private Next next() throws InterruptedException {
        lock.lock();
        try {
            while (messages.isEmpty() && producers.isEmpty() && last == null && !stopped) {
                work.await();
            }
            if (stopped) {
                return null;
            }
            if (!messages.isEmpty()) {
                Queued queued = messages.poll();
                queuedBytes -= queued.bytes();
                return new Next(queued.text(), null, null);
            }
            return producers.isEmpty() ? new Next(null, null, last) : new Next(null, producers.peek(), null);
        } finally {
            lock.unlock();
        }
    }

    private void finished(Producer producer) {
        lock.lock();
        try {
            if (producers.remove(producer)) {
                producer.close();
            }
        } finally {
            lock.unlock();
        }
    }
}
