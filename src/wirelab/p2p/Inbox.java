package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

/**
 * What a node does with each message a neighbour sends, whichever side dialed: it is parsed
 * once, paced against the neighbour's rates ({@link Neighbour#paceMessage}), and handed to what
 * its type asks for: HANDSHAKE teaches addresses and makes a neighbour; TRANSACTION is stored
 * once and passed on ({@link BroadcastTree}); IHAVE, GRAFT and PRUNE mend the tree; the SYNC
 * messages go to {@link CatchUp}. A message this node cannot use is logged within its source's
 * quota and counted against it ({@link #invalid}); a type it does not know is let pass, as the
 * curriculum's nodes do.
 */
final class Inbox {

    private static final System.Logger log = System.getLogger("peer-node");
    private static final Gson gson = new Gson();

    private final NodeConfig config;
    private final TransactionPool pool;
    private final CatchUp catchUp;
    private final BroadcastTree broadcast;
    private final SeenMessages seenMessages;
    private final NodeEvents events;
    private final MessageCounts counts;
    private final PeerAddresses addresses;
    private final Membership membership;

    Inbox(NodeConfig config, TransactionPool pool, CatchUp catchUp, BroadcastTree broadcast, SeenMessages seenMessages,
          NodeEvents events, MessageCounts counts, PeerAddresses addresses, Membership membership) {
        this.config = config;
        this.pool = pool;
        this.catchUp = catchUp;
        this.broadcast = broadcast;
        this.seenMessages = seenMessages;
        this.events = events;
        this.counts = counts;
        this.addresses = addresses;
        this.membership = membership;
    }

    /** Every message from every connection, in or out, comes through here, parsed once. */
    void receive(String text, Neighbour from) {
        try {
            from.paceMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // the node is stopping
            return;
        }
        String seenId = seenMessages.idOf(text);
        if (seenId != null) {
            try {
                from.paceTransaction();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            counts.received("TRANSACTION");
            events.publish("in", "TRANSACTION", from.peer, seenId);
            alreadyHave(seenId, from);
            return;
        }
        JsonObject message;
        try {
            JsonElement parsed = JsonParser.parseString(text);
            if (!parsed.isJsonObject()) {
                throw new JsonParseException("not an object");
            }
            message = parsed.getAsJsonObject();
        } catch (JsonParseException e) {
            invalid(from, "ignored a message from " + from + ": expected a JSON object, got " + PeerNode.abbreviate(text));
            return;
        }
        JsonElement type = message.get("type");
        JsonElement data = message.has("data") ? message.get("data") : JsonNull.INSTANCE;
        String typeName = type != null && type.isJsonPrimitive() ? type.getAsString() : String.valueOf(type);
        counts.received(typeName);
        if (!typeName.equals("TRANSACTION")) {   // a TRANSACTION is told once its id is known
            events.publish("in", PeerNode.abbreviate(typeName), from.peer, null);
        }
        switch (typeName) {
            case "HANDSHAKE" -> {
                if (!data.isJsonArray()) {
                    invalid(from, "ignored a HANDSHAKE from " + from + ": data must be an array of addresses, got "
                            + PeerNode.abbreviate(data.toString()));
                    return;
                }
                receiveHandshake(data.getAsJsonArray(), from);
            }
            case "TRANSACTION" -> {
                if (!data.isJsonObject()) {
                    invalid(from, "ignored a TRANSACTION from " + from + ": data must be an object, got "
                            + PeerNode.abbreviate(String.valueOf(data)));
                    return;
                }
                try {
                    receiveTransaction(data.getAsJsonObject(), text, from);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();   // the node is stopping
                }
            }
            case "SYNC", "SYNC_BUCKETS", "SYNC_IDS", "SYNC_WANT" -> {
                from.showedItSpeaksWirelab();
                catchUp.receive(from, typeName, data);
            }
            case "IHAVE", "GRAFT", "PRUNE" -> receiveTreeMessage(typeName, data, from);
            // A newer node may speak types we do not know; like the curriculum's nodes, we let them pass.
            default -> from.log(INFO, "ignored a message from " + from + ": unknown type " + PeerNode.abbreviate(typeName)
                    + " (this node speaks HANDSHAKE, TRANSACTION, IHAVE, GRAFT, PRUNE and the SYNC messages of catch-up)");
        }
    }

    /**
     * A message this node cannot use: logged within the source's quota, and counted against its
     * budget of invalid messages. Past that budget the peer is hung up on with 1008 (policy
     * violation) and its address backed off; the budget outlives the connection, so
     * reconnecting does not renew it.
     */
    void invalid(Neighbour from, String line) {
        from.log(WARNING, line);
        counts.refused("invalid message");
        from.source.refused("invalid message");
        if (!from.source.invalid.tryTake(1)) {
            counts.refused("hung up: too many invalid messages");
            from.log(WARNING, "hung up on " + from + ": more than " + Strangers.INVALID_BURST + " invalid messages");
            from.close(PeerNode.POLICY_VIOLATION, "too many invalid messages");
            if (from.address() != null) {
                membership.backOff(from.address());
            }
        }
    }

    /**
     * A HANDSHAKE teaches addresses. The first one on a connection a peer opened also makes the
     * peer a neighbour, if we have room; a node of ours that dialed us is answered with our own
     * HANDSHAKE (so it learns our neighbours too, even when we refuse it) and a SYNC, which
     * starts catch-up.
     */
    private void receiveHandshake(JsonArray data, Neighbour from) {
        from.log(INFO, "HANDSHAKE from " + from + ": " + PeerNode.abbreviate(data.toString()));
        if (from.direction == Neighbour.Direction.INCOMING && !from.isNeighbour()) {
            if (!membership.handshook(from)) {
                log.log(INFO, "refused " + from + " as a neighbour: already " + config.maxIncomingPeers()
                        + " incoming (MAX_INCOMING_PEERS)");
                if (from.speaksWirelab()) {   // it learns where else to go
                    from.sendHandshake(membership.peerExchangeData());
                }
                from.close(Membership.TRY_AGAIN_LATER, "this node has " + config.maxIncomingPeers()
                        + " incoming neighbours, its limit; try another");
                return;
            }
            if (from.speaksWirelab()) {
                from.mayAnswerHandshake();
                from.sendHandshake(membership.peerExchangeData());
                catchUp.start(from);
            } else if (!data.isEmpty() && data.get(data.size() - 1).isJsonPrimitive()) {
                // A curriculum node hears only on connections dialed to it, so we dial back the
                // address it names for itself (the last in its HANDSHAKE), even at MAX_PEERS.
                String itself = usableAddress(data.get(data.size() - 1).getAsString(), from);
                if (itself != null) {
                    membership.dialBack(itself);
                }
            }
        } else if (from.direction == Neighbour.Direction.INCOMING && from.speaksWirelab() && from.mayAnswerHandshake()) {
            // a node of ours whose address book ran dry asks again: it learns our neighbours
            from.sendHandshake(membership.peerExchangeData());
        }
        int limit = config.maxAddressesPerHandshake();
        if (data.size() > limit) {
            from.log(WARNING, "HANDSHAKE from " + from + " lists " + data.size() + " addresses; taking the first " + limit);
        }
        List<String> learned = new ArrayList<>();
        int overRate = 0;
        for (int i = 0; i < Math.min(limit, data.size()); i++) {
            JsonElement address = data.get(i);
            if (!address.isJsonPrimitive() || !address.getAsJsonPrimitive().isString()) {
                invalid(from, "ignored " + PeerNode.abbreviate(address.toString()) + " in a HANDSHAKE from " + from
                        + ": expected a \"ws://host:port\" string");
                continue;
            }
            String usable = usableAddress(address.getAsString(), from);
            if (usable == null || membership.isKnown(usable)) {
                continue;
            }
            // A stranger's addresses are dials we would make for it: at a bounded rate per source.
            if (!from.source.addresses.tryTake(1)) {
                overRate++;
                continue;
            }
            learned.add(usable);
        }
        if (overRate > 0) {
            counts.refused("addresses past the source's rate");
            from.source.refused("addresses past the source's rate");
            from.log(INFO, "HANDSHAKE from " + from + ": left " + overRate + " new addresses unlearned: more than "
                    + Strangers.ADDRESS_BURST + " from one source, or one per " + (int) (1 / Strangers.ADDRESSES_PER_SECOND) + " s");
        }
        membership.learned(learned);
    }

    /**
     * The address in canonical form when this node may dial it; null (logged where it is wrong,
     * within the source's quota) when not. A stranger's address may never be on a bad port.
     */
    private String usableAddress(String rawAddress, Neighbour from) {
        String address = PeerAddresses.normalize(rawAddress);
        if (address != null && addresses.isOwn(address)) {
            return null;
        }
        String problem = address == null ? "expected ws://host:port" : addresses.dialProblem(address, true);
        if (problem == null) {
            return address;
        }
        counts.refused(problem.startsWith("its port") ? "address on a bad port" : "address not allowed");
        from.log(WARNING, "will not dial " + PeerNode.abbreviate(rawAddress) + " from HANDSHAKE from " + from + ": " + problem);
        return null;
    }

    /** IHAVE, GRAFT and PRUNE are for neighbours: a client that never said HANDSHAKE has no link to prune or graft. */
    private void receiveTreeMessage(String type, JsonElement data, Neighbour from) {
        if (!from.isNeighbour()) {
            invalid(from, "ignored a " + type + " from " + from + ": it is not a neighbour (it sent no HANDSHAKE)");
            return;
        }
        from.showedItSpeaksWirelab();
        switch (type) {
            case "IHAVE" -> broadcast.receiveIHave(from, data);
            case "GRAFT" -> broadcast.receiveGraft(from, data);
            default -> broadcast.receivePrune(from);
        }
    }

    /**
     * Stores the transaction, then passes the message on, as it came ({@link BroadcastTree}).
     * Gossip meets itself coming back: a node hears a transaction from more than one neighbour.
     * So each transaction has an id ({@link TransactionId}: its own id field, else one every
     * node derives alike from its content); a node stores and passes on only ids it has not
     * stored, which stops the loop. The ids are read back from transactions.json, so a node that
     * restarts still knows what it stored. The message goes on unchanged, byte for byte: a
     * curriculum node compares transactions by content, and would store a changed copy again.
     */
    private void receiveTransaction(JsonObject transaction, String messageText, Neighbour from) throws InterruptedException {
        String id;
        try {
            id = TransactionId.of(transaction);
        } catch (IllegalArgumentException e) {
            invalid(from, "ignored a TRANSACTION from " + from + ": " + e.getMessage());
            return;
        }
        events.publish("in", "TRANSACTION", from.peer, id);
        from.paceTransaction();
        if (pool.contains(id)) {
            seenMessages.remember(messageText, id);
            alreadyHave(id, from);
            return;
        }
        String json = gson.toJson(transaction);
        String refusal = refusal(json);
        if (refusal != null) {
            counts.refused(refusal);
            from.source.refused(refusal);
            from.log(WARNING, "refused transaction " + PeerNode.abbreviate(id) + " from " + from + ": " + refusal);
            return;
        }
        CompletableFuture<Void> onDisk = pool.add(id, json);
        if (onDisk == null) {
            seenMessages.remember(messageText, id);
            alreadyHave(id, from);
            return;
        }
        // This connection's next message is read while the pool writes this one, so a burst shares
        // one append and one fsync; it counts as stored, and is passed on, only once it is on disk.
        onDisk.thenRun(() -> {
            from.source.accepted();
            seenMessages.remember(messageText, id);
            broadcast.stored(id);
            List<Neighbour> neighbours = membership.neighbours();
            broadcast.broadcast(id, messageText, from, neighbours);
            log.log(INFO, "stored transaction " + id + " from " + from + "; passed it on to " + neighbours.size() + " neighbours");
        }).exceptionally(failure -> {
            log.log(WARNING, "could not store transaction " + id + " from " + from + ": " + failure.getMessage());
            return null;
        });
    }

    /** Why a new transaction cannot be stored, or null: too big for MAX_TRANSACTION_BYTES, or the pool at MAX_POOL_BYTES. */
    private String refusal(String transactionJson) {
        int bytes = OutgoingConnection.utf8Length(transactionJson);
        if (bytes > config.limits().maxTransactionBytes()) {
            return "larger than MAX_TRANSACTION_BYTES (" + config.limits().maxTransactionBytes() + ")";
        }
        if (pool.bytes() + bytes > config.limits().maxPoolBytes()) {
            return "the pool is full (MAX_POOL_BYTES " + config.limits().maxPoolBytes() + ")";
        }
        return null;
    }

    private void alreadyHave(String id, Neighbour from) {
        broadcast.duplicate(from, membership::neighbours);
        from.log(INFO, "already have transaction " + id + " (from " + from + "); not passing it on");
    }
}
