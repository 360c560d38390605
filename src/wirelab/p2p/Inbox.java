package wirelab.p2p;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import wirelab.Text;

/**
 * What a node does with each message a neighbour sends, whichever side dialed: it is parsed
 * once, paced against the neighbour's rates ({@link Neighbour#paceMessage}), and handed to what
 * its type asks for: HANDSHAKE teaches addresses and makes a neighbour ({@link Membership});
 * TRANSACTION is checked, stored once and passed on ({@link BroadcastTree}); IHAVE, GRAFT and
 * PRUNE mend the tree; the SYNC messages go to {@link CatchUp}. A message this node cannot use
 * is logged within its source's quota and counted against it ({@link #invalid}); a type it does
 * not know is let pass, as the curriculum's nodes do.
 */
final class Inbox {

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
            SeenMessages.Seen seen = seenMessages.get(text);
            if (seen != null) {   // a copy of a TRANSACTION handled lately, known without parsing
                from.paceTransaction();
                counts.received("TRANSACTION");
                events.publish("in", "TRANSACTION", from.addressOrPeer(), seen.name());
                alreadyHave(seen.digest(), from, seen.repair());
                return;
            }
            JsonObject message = parse(text, from);
            if (message == null) {
                return;
            }
            JsonElement type = message.get("type");
            JsonElement data = message.has("data") ? message.get("data") : JsonNull.INSTANCE;
            String typeName = type != null && type.isJsonPrimitive() ? type.getAsString() : String.valueOf(type);
            counts.received(typeName);
            if (!typeName.equals("TRANSACTION")) {   // a TRANSACTION is told once its digest is known
                events.publish("in", Text.abbreviate(typeName), from.addressOrPeer(), null);
            }
            dispatch(typeName, data, message, text, from);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();   // the node is stopping
        }
    }

    private JsonObject parse(String text, Neighbour from) {
        try {
            JsonElement parsed = JsonParser.parseString(text);
            if (parsed.isJsonObject()) {
                return parsed.getAsJsonObject();
            }
        } catch (JsonParseException e) {
            // said below
        }
        invalid(from, "ignored a message from " + from + ": expected a JSON object, got " + Text.abbreviate(text));
        return null;
    }

    private void dispatch(String type, JsonElement data, JsonObject message, String text, Neighbour from)
            throws InterruptedException {
        switch (type) {
            case "HANDSHAKE" -> {
                if (!data.isJsonArray()) {
                    invalid(from, "ignored a HANDSHAKE from " + from + ": data must be an array of addresses, got "
                            + Text.abbreviate(data.toString()));
                    return;
                }
                receiveHandshake(data.getAsJsonArray(), from);
            }
            case "TRANSACTION" -> {
                if (!data.isJsonObject()) {
                    invalid(from, "ignored a TRANSACTION from " + from + ": data must be an object, got "
                            + Text.abbreviate(String.valueOf(data)));
                    return;
                }
                JsonElement repair = message.get("repair");
                receiveTransaction(data.getAsJsonObject(), repair != null && repair.isJsonPrimitive()
                        && repair.getAsJsonPrimitive().isBoolean() && repair.getAsBoolean(), text, from);
            }
            case "SYNC", "SYNC_BUCKETS", "SYNC_IDS", "SYNC_WANT" -> {
                if (from.showedItSpeaksWirelab()) {
                    broadcast.ensureEager(membership.neighbours());   // a node we dialed turns out to be ours: join the tree now
                }
                catchUp.receive(from, type, data);
            }
            case "IHAVE", "GRAFT", "PRUNE" -> receiveTreeMessage(type, data, from);
            // A newer node may speak types we do not know; like the curriculum's nodes, we let them pass.
            default -> from.log(INFO, "ignored a message from " + from + ": unknown type " + Text.abbreviate(type)
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
        from.refused(Refusal.INVALID_MESSAGE);
        if (!from.source.invalid.tryTake(1)) {
            from.refused(Refusal.HUNG_UP_INVALID);
            from.log(WARNING, "hung up on " + from + ": more than " + Strangers.INVALID_BURST + " invalid messages");
            from.close(PeerNode.POLICY_VIOLATION, "too many invalid messages");
            if (from.address() != null) {
                membership.backOff(from.address());
            }
        }
    }

    /**
     * A HANDSHAKE teaches addresses: each one usable (canonical, allowed, not ours) and new goes
     * to {@link Membership}, within the source's rate of new addresses. The first HANDSHAKE on a
     * connection a peer opened is also its request to be a neighbour, which Membership decides.
     */
    private void receiveHandshake(JsonArray data, Neighbour from) {
        from.log(INFO, "HANDSHAKE from " + from + ": " + Text.abbreviate(data.toString()));
        int limit = config.maxAddressesPerHandshake();
        if (data.size() > limit) {
            from.log(WARNING, "HANDSHAKE from " + from + " lists " + data.size() + " addresses; taking the first " + limit);
        }
        List<String> usable = new ArrayList<>();
        for (int i = 0; i < Math.min(limit, data.size()); i++) {
            JsonElement address = data.get(i);
            if (!address.isJsonPrimitive() || !address.getAsJsonPrimitive().isString()) {
                invalid(from, "ignored " + Text.abbreviate(address.toString()) + " in a HANDSHAKE from " + from
                        + ": expected a \"ws://host:port\" string");
                usable.add(null);   // keeps the last entry last: a curriculum node names itself there
                continue;
            }
            usable.add(usableAddress(address.getAsString(), from));
        }
        String itself = usable.isEmpty() ? null : usable.get(usable.size() - 1);
        if (membership.handshake(from, itself)) {
            catchUp.start(from);
            broadcast.ensureEager(membership.neighbours());
        } else if (!from.isNeighbour()) {
            return;   // refused: nothing learned from a peer we do not take
        }
        List<String> learned = new ArrayList<>();
        int overRate = 0;
        for (String address : usable) {
            if (address == null || membership.isKnown(address)) {
                continue;
            }
            if (!from.source.addresses.tryTake(1)) {   // a stranger's addresses are dials we would make for it
                overRate++;
                continue;
            }
            learned.add(address);
        }
        if (overRate > 0) {
            from.refused(Refusal.ADDRESSES_PAST_RATE);
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
        PeerAddresses.DialProblem problem = address == null
                ? new PeerAddresses.DialProblem(Refusal.ADDRESS_NOT_ALLOWED, "expected ws://host:port")
                : addresses.dialProblem(address, true);
        if (problem == null) {
            return address;
        }
        from.refused(problem.refusal());
        from.log(WARNING, "will not dial " + Text.abbreviate(rawAddress) + " from HANDSHAKE from " + from + ": " + problem.why());
        return null;
    }

    /** IHAVE, GRAFT and PRUNE are for neighbours: a client that never said HANDSHAKE has no link to prune or graft. */
    private void receiveTreeMessage(String type, JsonElement data, Neighbour from) {
        if (!from.isNeighbour()) {
            invalid(from, "ignored a " + type + " from " + from + ": it is not a neighbour (it sent no HANDSHAKE)");
            return;
        }
        if (from.showedItSpeaksWirelab()) {
            broadcast.ensureEager(membership.neighbours());
        }
        switch (type) {
            case "IHAVE" -> broadcast.receiveIHave(from, data);
            case "GRAFT" -> broadcast.receiveGraft(from, data);
            default -> broadcast.receivePrune(from, membership.neighbours());
        }
    }

    /**
     * Checks the transaction, stores it, then passes it on ({@link BroadcastTree}). Gossip meets
     * itself coming back: a node hears a transaction from more than one neighbour. Its digest
     * ({@link TransactionDigest}, the hash of its content) says which copies are the same one; a
     * node stores and passes on only digests it has not stored, which stops the loop, and the
     * pool remembers them across restarts. What goes on is the transaction as it was checked,
     * {@code {"type":"TRANSACTION","data":...}} and nothing else the message carried: the same
     * content, so a curriculum node, which compares transactions by content, takes it as the
     * same transaction.
     */
    private void receiveTransaction(JsonObject transaction, boolean repair, String messageText, Neighbour from)
            throws InterruptedException {
        TransactionDigest digest;
        String name;
        try {
            digest = TransactionDigest.of(transaction);   // refuses text that is not Unicode
            name = TransactionId.of(transaction);         // refuses an id field no node accepts
        } catch (IllegalArgumentException e) {
            invalid(from, "ignored a TRANSACTION from " + from + ": " + e.getMessage());
            return;
        }
        events.publish("in", "TRANSACTION", from.addressOrPeer(), name);
        from.paceTransaction();
        if (pool.contains(digest)) {
            seenMessages.remember(messageText, digest, name, repair);
            alreadyHave(digest, from, repair);
            return;
        }
        try {
            if (SignedTransaction.check(transaction) == SignedTransaction.Verdict.UNSIGNED && config.limits().requireSignatures()) {
                throw new SignedTransaction.Refused(Refusal.UNSIGNED, "it is not signed, and this node takes signed ones only");
            }
        } catch (SignedTransaction.Refused refused) {
            refusedTransaction(from, refused.refusal, "refused transaction " + Text.abbreviate(name) + " from " + from + ": "
                    + refused.getMessage());
            return;
        }
        String json = transaction.toString();
        Refusal refusal = refusal(json);
        if (refusal != null) {
            from.refused(refusal);
            from.log(WARNING, "refused transaction " + Text.abbreviate(name) + " from " + from + ": " + refusal.label);
            return;
        }
        CompletableFuture<Void> onDisk = pool.add(digest, json);
        if (onDisk == null) {
            seenMessages.remember(messageText, digest, name, repair);
            alreadyHave(digest, from, repair);
            return;
        }
        // This connection's next message is read while the pool writes this one, so a burst shares
        // one append and one fsync; it counts as stored, and is passed on, only once it is on disk.
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
     * A transaction refused for its signature: counted, logged within the quota, and charged to
     * the source's budget of invalid messages, as a forged or altered copy is no honest mistake.
     */
    private void refusedTransaction(Neighbour from, Refusal refusal, String line) {
        from.refused(refusal);
        from.log(WARNING, line);
        if (refusal != Refusal.UNSIGNED && !from.source.invalid.tryTake(1)) {
            from.refused(Refusal.HUNG_UP_INVALID);
            from.close(PeerNode.POLICY_VIOLATION, "too many invalid messages");
        }
    }

    /** Why a new transaction cannot be stored, or null: too big, or the pool at MAX_POOL_BYTES or MAX_POOL_TRANSACTIONS. */
    private Refusal refusal(String transactionJson) {
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
