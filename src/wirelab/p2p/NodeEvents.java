package wirelab.p2p;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.google.gson.JsonObject;

import wirelab.websocket.HttpResponse;

/**
 * {@code GET /events}: what the node does, live, as Server-Sent Events (plain HTTP,
 * {@code text/event-stream}, the browser's EventSource): one event for each message the node
 * receives, and for each it sends but a HANDSHAKE sent in answer to one (peer exchange, and the
 * heartbeat's ask for addresses), with its type, the peer and, for a TRANSACTION whose name is
 * known at that point, its name ({@link TransactionId}).
 *
 * <pre>
 * data: {"direction":"out","type":"TRANSACTION","peer":"ws://localhost:4002","id":"\"tx-1\""}
 *
 * event: dropped
 * data: {"dropped":12}
 * </pre>
 *
 * Gossip must never wait for a viewer: each viewer has a queue of 256 events, and an event
 * that finds it full is dropped and counted; the viewer is told how many it missed. At most 8
 * viewers at a time. A viewer that hangs up is noticed at once (the server watches its side of
 * the connection and interrupts the stream), and its queue and thread go with it.
 */
final class NodeEvents {

    static final int MAX_VIEWERS = 8;
    private static final int QUEUE = 256;

    private record Viewer(BlockingQueue<String> queue, AtomicInteger dropped) {
    }

    private final Set<Viewer> viewers = ConcurrentHashMap.newKeySet();

    /** Tells every viewer; costs nothing but a set's size check when nobody watches. */
    void publish(String direction, String type, String peer, String id) {
        if (viewers.isEmpty()) {
            return;
        }
        JsonObject event = new JsonObject();
        event.addProperty("direction", direction);
        event.addProperty("type", type);
        event.addProperty("peer", peer);
        if (id != null) {
            event.addProperty("id", id);
        }
        String line = "data: " + event + "\n\n";
        for (Viewer viewer : viewers) {
            if (!viewer.queue().offer(line)) {
                viewer.dropped().incrementAndGet();
            }
        }
    }

    /** The answer to GET /events: a stream for a new viewer, or 503 when there are enough. */
    HttpResponse subscribe() {
        if (viewers.size() >= MAX_VIEWERS) {
            return HttpResponse.text(503, "this node already has " + MAX_VIEWERS + " event viewers; try again later");
        }
        Viewer viewer = new Viewer(new ArrayBlockingQueue<>(QUEUE), new AtomicInteger());
        viewers.add(viewer);
        return HttpResponse.stream(Map.of("Content-Type", "text/event-stream", "Cache-Control", "no-store"),
                out -> stream(viewer, out));
    }

    private void stream(Viewer viewer, OutputStream out) throws IOException {
        try {
            write(out, ": the node's events, one per message sent or received\n\n");
            while (true) {
                String event = viewer.queue().poll(15, TimeUnit.SECONDS);
                int dropped = viewer.dropped().getAndSet(0);
                StringBuilder events = new StringBuilder(event != null ? event : ": still here\n\n");   // a comment: tells a gone viewer apart
                if (dropped > 0) {
                    events.insert(0, "event: dropped\ndata: {\"dropped\":" + dropped + "}\n\n");
                }
                for (String more; events.length() < 16_384 && (more = viewer.queue().poll()) != null; ) {
                    events.append(more);   // what queued meanwhile goes in the same write
                }
                write(out, events.toString());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            viewers.remove(viewer);
        }
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }
}
