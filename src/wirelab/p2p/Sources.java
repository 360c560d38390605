package wirelab.p2p;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import wirelab.LogQuota;
import wirelab.RecentlyHeard;
import wirelab.TokenBucket;

/**
 * Every source of messages this node has heard from, friend or stranger, and what it remembers
 * about each across its reconnects: its log quota, its budgets (addresses it may make us dial,
 * catch-up bytes it may make us upload, invalid messages it may send before we hang up), and
 * counters that {@code /status} shows. gossipsub v1.1 keeps a peer's score past a disconnect
 * for the same reason: a budget a reconnect could reset is no budget.
 *
 * <p>A source is the host a connection comes from. On loopback every node of a one-machine
 * network shares 127.0.0.1, so there a node of ours that names its address in the
 * {@code Wirelab-Gossip} header is a source of its own (a stranger on loopback is already on
 * the machine; the budgets are there against the network), and every other loopback client
 * shares the one source 127.0.0.1. An outgoing connection's source is the address we dialed.
 * At most {@link #MAX_SOURCES} are remembered, the least recently heard forgotten.
 */
final class Sources {

    static final int MAX_SOURCES = 1_000;
    /** Addresses one source may add to our address book: a burst, then one every ten seconds (Bitcoin's addr rate). */
    static final int ADDRESS_BURST = 100;
    static final double ADDRESSES_PER_SECOND = 0.1;
    /** Invalid messages one source may send: a burst, then one a second; past that, we hang up. */
    static final int INVALID_BURST = 100;
    static final double INVALID_PER_SECOND = 1;

    /** One source's budgets and counters. */
    static final class Source {
        final String name;
        final LogQuota log;
        final TokenBucket addresses = new TokenBucket(ADDRESS_BURST, ADDRESSES_PER_SECOND);
        final TokenBucket invalid = new TokenBucket(INVALID_BURST, INVALID_PER_SECOND);
        final TokenBucket catchUpBytes;
        private long accepted;
        private long bytesServed;
        private final Map<String, Long> refused = new TreeMap<>();

        private Source(String name, long catchUpBytesPerMinute) {
            this.name = name;
            this.log = new LogQuota(name);
            this.catchUpBytes = new TokenBucket(catchUpBytesPerMinute, catchUpBytesPerMinute / 60.0);
        }

        synchronized void accepted() {
            accepted++;
        }

        synchronized void refused(Refusal reason) {
            refused.merge(reason.label, 1L, Long::sum);
        }

        synchronized void served(long bytes) {
            bytesServed += bytes;
        }

        /** {"accepted": transactions stored from it, "refused": {reason: count}, "bytesServed": catch-up bytes}. */
        synchronized Map<String, Object> counters() {
            Map<String, Object> counters = new LinkedHashMap<>();
            counters.put("accepted", accepted);
            counters.put("refused", new TreeMap<>(refused));
            counters.put("bytesServed", bytesServed);
            return counters;
        }
    }

    private final RecentlyHeard<String, Source> sources;

    Sources(long catchUpBytesPerMinute) {
        this.sources = new RecentlyHeard<>(MAX_SOURCES, name -> new Source(name, catchUpBytesPerMinute));
    }

    /** The source of a connection from {@code host}; {@code claimedAddress} (or null) counts on loopback only. */
    Source of(String host, String claimedAddress) {
        return sources.of(PeerAddresses.isLoopback(host) && claimedAddress != null ? claimedAddress : host);
    }

    /** The most recently heard sources' counters, for /status. */
    Map<String, Object> counters(int atMost) {
        Map<String, Object> counters = new LinkedHashMap<>();
        for (Source source : sources.newestFirst(atMost)) {
            counters.put(source.name, source.counters());
        }
        return counters;
    }
}
