package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import wirelab.Text;
import wirelab.p2p.Message.Type;
import wirelab.websocket.CloseCode;

/**
 * What a node does with each message a neighbour sends, whichever side dialed: the inbox reads
 * it once ({@link Message#parse}), paces it against the neighbour's rates
 * ({@link Neighbour#paceMessage}), and hands it to the file that {@link Message}'s table names
 * for its type; a TRANSACTION it checks and stores itself ({@link #receiveTransaction}). A
 * message this node cannot use is logged within its source's quota and counted against it
 * ({@link #invalid}); a type it does not know is let pass, as the curriculum's nodes do.
 */
final class Inbox {

    private final NodeConfig config;
    private final TransactionPool pool;
    private final CatchUp catchUp;
    private final BroadcastTree broadcast;
    private final SeenMessages seenMessages;
    private final NodeEvents events;
    private final MessageCounts counts;
    private final Membership membership;

    Inbox(NodeConfig config, TransactionPool pool, CatchUp catchUp, BroadcastTree broadcast, SeenMessages seenMessages,
          NodeEvents events, MessageCounts counts, Membership membership) {
        this.config = config;
        this.pool = pool;
        this.catchUp = catchUp;
        this.broadcast = broadcast;
        this.seenMessages = seenMessages;
        this.events = events;
        this.counts = counts;
        this.membership = membership;
    }

    /** Every message from every connection, in or out, comes through here, parsed once. */
    void receive(String text, Neighbour from) {
        try {
            from.paceMessage();
            SeenMessages.Seen seen = seenMessages.get(text);
            if (seen != null) {   // a copy of a TRANSACTION handled lately, known without parsing
                from.paceTransaction();
                counts.received(Type.TRANSACTION.name());
                events.publish("in", Type.TRANSACTION.name(), from.addressOrPeer(), seen.name());
                alreadyHave(seen.digest(), from, seen.repair());
                return;
            }
            Message.Received message;
            try {
                message = Message.parse(text);
            } catch (Message.Malformed e) {
                invalid(from, "ignored a message from " + from + ": " + e.getMessage());
                return;
            }
            counts.received(message.typeName());
            if (message.type() != Type.TRANSACTION) {   // a TRANSACTION is told once its digest is known
                events.publish("in", Text.abbreviate(message.typeName()), from.addressOrPeer(), null);
            }
            dispatch(message, text, from);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // the node is stopping
        }
    }

    private void dispatch(Message.Received message, String text, Neighbour from) throws InterruptedException {
        Type type = message.type();
        if (type == null) {   // a newer node may speak types we do not know; like the curriculum's nodes, we let them pass
            from.log(INFO, "ignored a message from " + from + ": unknown type " + Text.abbreviate(message.typeName())
                    + " (this node speaks HANDSHAKE, TRANSACTION, IHAVE, GRAFT, PRUNE and the SYNC messages of catch-up)");
            return;
        }
        try {
            switch (type) {
                case HANDSHAKE -> receiveHandshake(Message.addresses(message.data()), from);
                case TRANSACTION -> receiveTransaction(Message.transaction(message.data()), message.repair(), text, from);
                case IHAVE, GRAFT, PRUNE -> receiveTreeMessage(type, message.data(), from);
                case SYNC, SYNC_BUCKETS, SYNC_IDS, SYNC_WANT -> {
                    if (from.showedItSpeaksWirelab()) {
                        broadcast.ensureEager(membership.neighbours());   // a node we dialed turns out to be ours: join the tree now
                    }
                    catchUp.receive(from, type, message.data());
                }
            }
        } catch (Message.Malformed e) {   // a HANDSHAKE's or a TRANSACTION's data of the wrong shape
            invalid(from, "ignored a " + type + " from " + from + ": " + e.getMessage());
        }
    }

    /**
     * A message this node cannot use: logged within the source's quota, and counted against its
     * budget of invalid messages. Past that budget the peer is hung up on with 1008 (policy
     * violation) and its address backed off; the budget outlives the connection, so
     * reconnecting does not renew it.
     */
    private void invalid(Neighbour from, String line) {
        invalid(from, Refusal.INVALID_MESSAGE, line);
    }

    /** The same, counted under {@code reason}: a forged or altered transaction is no honest mistake either. */
    private void invalid(Neighbour from, Refusal reason, String line) {
        from.log(WARNING, line);
        from.refused(reason);
        if (!from.source.invalid.tryTake(1)) {
            from.refused(Refusal.HUNG_UP_INVALID);
            from.log(WARNING, "hung up on " + from + ": more than " + Sources.INVALID_BURST + " invalid messages");
            from.close(CloseCode.POLICY_VIOLATION, "too many invalid messages");
            if (from.address() != null) {
                membership.outgoing().backOff(from.address());
            }
        }
    }

    /**
     * A HANDSHAKE's addresses, the first MAX_ADDRESSES_PER_HANDSHAKE of them, each a string or
     * counted against the source as invalid; {@link Membership} learns what they teach, and
     * decides whether a peer that dialed us becomes a neighbour.
     */
    private void receiveHandshake(JsonArray data, Neighbour from) {
        from.log(INFO, "HANDSHAKE from " + from + ": " + Text.abbreviate(data.toString()));
        int limit = config.maxAddressesPerHandshake();
        if (data.size() > limit) {
            from.log(WARNING, "HANDSHAKE from " + from + " lists " + data.size() + " addresses; taking the first " + limit);
        }
        List<String> listed = new ArrayList<>();
        for (int i = 0; i < Math.min(limit, data.size()); i++) {
            JsonElement address = data.get(i);
            if (address.isJsonPrimitive() && address.getAsJsonPrimitive().isString()) {
                listed.add(address.getAsString());
            } else {
                invalid(from, "ignored " + Text.abbreviate(address.toString()) + " in a HANDSHAKE from " + from
                        + ": expected a \"ws://host:port\" string");
                listed.add(null);   // keeps the last entry last: a curriculum node names itself there
            }
        }
        if (membership.receiveHandshake(from, listed)) {
            catchUp.start(from);
            broadcast.ensureEager(membership.neighbours());
        }
    }

    /**
     * IHAVE, GRAFT and PRUNE are for admitted neighbours: a client that never said HANDSHAKE, or
     * one evicted, has no link to prune or graft. Their data of the wrong shape is logged and
     * passed by.
     */
    private void receiveTreeMessage(Type type, JsonElement data, Neighbour from) {
        if (!from.isAdmitted()) {
            invalid(from, "ignored a " + type + " from " + from + ": it is not an admitted neighbour (no HANDSHAKE admitted it,"
                    + " or it was evicted)");
            return;
        }
        if (from.showedItSpeaksWirelab()) {
            broadcast.ensureEager(membership.neighbours());
        }
        try {
            switch (type) {
                case IHAVE -> broadcast.receiveIHave(from, Message.ids(data, Message.MAX_TREE_IDS));
                case GRAFT -> broadcast.receiveGraft(from, Message.ids(data, Message.MAX_TREE_IDS));
                default -> broadcast.receivePrune(from, membership.neighbours());
            }
        } catch (Message.Malformed e) {
            from.log(WARNING, "ignored a " + type + " from " + from + ": " + e.getMessage());
        }
    }

    /**
     * Checks the transaction, stores it, then passes it on ({@link BroadcastTree}). Gossip meets
     * itself coming back: a node hears a transaction from more than one neighbour. Its digest
     * ({@link TransactionDigest}, the hash of its content) says which copies are the same one; a
     * node stores and passes on only digests it has not stored, which stops the loop, and the
     * pool remembers them across restarts. What goes on is the transaction as it was checked,
     * and its repair mark ({@link Message#transaction}), nothing else the message carried: the
     * same content, so a curriculum node, which compares transactions by content, takes it as
     * the same transaction.
     */
    private void receiveTransaction(JsonObject transaction, boolean repair, String messageText, Neighbour from)
            throws InterruptedException {
        TransactionDigest digest;
        String name;
        try {
            digest = TransactionDigest.of(transaction);     // refuses text that is not Unicode
            name = TransactionId.of(transaction, digest);   // refuses an id field no node accepts
        } catch (IllegalArgumentException e) {
            invalid(from, "ignored a TRANSACTION from " + from + ": " + e.getMessage());
            return;
        }
        events.publish("in", Type.TRANSACTION.name(), from.addressOrPeer(), name);
        from.paceTransaction();
        if (pool.contains(digest)) {
            seenMessages.remember(messageText, digest, name, repair);
            alreadyHave(digest, from, repair);
            return;
        }
        String json = transaction.toString();
        if (!refused(transaction, json, name, from)) {
            store(digest, name, json, repair, messageText, from);
        }
    }

    /** True, counted and logged, when this node will not store a new transaction: its signature, its size, the pool's. */
    private boolean refused(JsonObject transaction, String json, String name, Neighbour from) {
        String line = "refused transaction " + Text.abbreviate(name) + " from " + from + ": ";
        Refusal refusal;
        try {
            refusal = refusal(transaction, json);
        } catch (SignedTransaction.Refused refused) {   // forged, altered or malformed: no honest mistake, so charged as invalid
            invalid(from, refused.refusal, line + refused.getMessage());
            return true;
        }
        if (refusal != null) {
            from.refused(refusal);
            from.log(WARNING, line + refusal.label);
        }
        return refusal != null;
    }

    /**
     * Stores a new transaction, then passes it on. This connection's next message is read while
     * the pool writes this one, so a burst shares one append and one fsync; it counts as stored,
     * and is passed on, only once it is on disk.
     */
    private void store(TransactionDigest digest, String name, String json, boolean repair, String messageText, Neighbour from)
            throws InterruptedException {
        CompletableFuture<Void> onDisk = pool.add(digest, json);
        if (onDisk == null) {   // another connection brought it first
            seenMessages.remember(messageText, digest, name, repair);
            alreadyHave(digest, from, repair);
            return;
        }
        onDisk.thenRun(() -> {
            from.source.accepted();
            from.broughtNewTransaction();
            seenMessages.remember(messageText, digest, name, repair);
            seenMessages.remember(Message.transaction(json, repair), digest, name, repair);
            broadcast.stored(digest);
            List<Neighbour> neighbours = membership.neighbours();
            broadcast.broadcast(digest, name, json, repair, from, neighbours);
            from.log(INFO, "stored transaction " + Text.abbreviate(name) + " from " + from + " (digest " + digest
                    + "); passed it on to " + (neighbours.size() - (neighbours.contains(from) ? 1 : 0)) + " neighbours");
        }).exceptionally(failure -> {
            from.log(WARNING, "could not store transaction " + digest + " from " + from + ": " + failure.getMessage());
            return null;
        });
    }

    /**
     * Why a new transaction cannot be stored, or null: unsigned where REQUIRE_SIGNATURES, too
     * big, or the pool at MAX_POOL_BYTES or MAX_POOL_TRANSACTIONS. Throws when it is signed and
     * the signature fails.
     */
    private Refusal refusal(JsonObject transaction, String transactionJson) throws SignedTransaction.Refused {
        if (SignedTransaction.check(transaction) == SignedTransaction.Verdict.UNSIGNED && config.limits().requireSignatures()) {
            return Refusal.UNSIGNED;
        }
        int bytes = Text.utf8Length(transactionJson);
        if (bytes > config.limits().maxTransactionBytes()) {
            return Refusal.TRANSACTION_TOO_LARGE;
        }
        if (pool.bytes() + bytes > config.limits().maxPoolBytes()) {
            return Refusal.POOL_FULL_BYTES;
        }
        if (pool.held() >= config.limits().maxPoolTransactions()) {
            return Refusal.POOL_FULL_COUNT;
        }
        return null;
    }

    /** A copy of a transaction held already; one that is not a repair may show a cycle in the tree ({@link BroadcastTree#duplicate}). */
    private void alreadyHave(TransactionDigest digest, Neighbour from, boolean repair) {
        if (!repair) {
            broadcast.duplicate(digest, from, membership.neighbours());
        }
        from.log(INFO, "already have transaction " + digest + " (from " + from + "); not passing it on");
    }
}
