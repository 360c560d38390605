package wirelab.p2p;

/**
 * Every reason a node turns something away, in one ledger: {@code /status} counts each under
 * its label ({@code "refused": {"address on a bad port": 3}}), for the node and for the source
 * it came from ({@link Sources}), so that tests and users see limits work without reading
 * logs. The label of a limit names its setting ({@link NodeConfig}).
 */
enum Refusal {
    INVALID_MESSAGE("invalid message"),
    HUNG_UP_INVALID("hung up: too many invalid messages"),
    FAILED_ON_MESSAGE("failed on a message (1011)"),
    ADDRESSES_PAST_RATE("addresses past the source's rate"),
    ADDRESS_ON_BAD_PORT("address on a bad port"),
    ADDRESS_NOT_ALLOWED("address not allowed"),
    CLAIMED_ADDRESS("a Wirelab-Gossip address we would not dial"),
    DIAL_BACK_PAST_CAP("dial-back past MAX_DIAL_BACKS"),
    INCOMING_FULL("no incoming slot free (MAX_INCOMING_PEERS)"),
    EVICTED("evicted for a newcomer"),
    TRANSACTION_TOO_LARGE("larger than MAX_TRANSACTION_BYTES"),
    UNSIGNED("unsigned (REQUIRE_SIGNATURES)"),
    BAD_SIGNATURE("a signature that does not verify"),
    MALFORMED_SIGNATURE("a publicKey or signature not as the format says"),
    POOL_FULL_BYTES("the pool is full (MAX_POOL_BYTES)"),
    POOL_FULL_COUNT("the pool is full (MAX_POOL_TRANSACTIONS)"),
    CATCH_UP_PAST_BUDGET("catch-up past the budget"),
    SEND_QUEUE_FULL("dropped: its send queue was full (MAX_SEND_QUEUE_BYTES)"),
    SEND_STALLED("dropped: a write to it blocked (SEND_TIMEOUT_MS)"),
    HTTP_OTHER_HOST("HTTP for another Host"),
    HTTP_OTHER_ORIGIN("HTTP from another Origin"),
    HANDSHAKE_REFUSED("an opening handshake refused (400, 403, 405, 426, 431) or too slow"),
    CONNECTIONS_FULL("no connection slot (503: MAX_CONNECTIONS, MAX_CONNECTIONS_PER_SOURCE)"),
    BROKE_WEBSOCKET("closed for breaking RFC 6455 (1002, 1007, 1009, 1013)");

    final String label;

    Refusal(String label) {
        this.label = label;
    }
}
