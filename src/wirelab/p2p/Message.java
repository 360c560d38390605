package wirelab.p2p;

/**
 * The node's messages as they go on the wire: each a JSON text frame {@code {"type": ..., "data": ...}}.
 */
final class Message {

    private Message() {
    }

    /**
     * A TRANSACTION: {@code {"type":"TRANSACTION","data":<the transaction>}}, and for a repair
     * (a GRAFT's answer, catch-up, or one passed on after either) {@code "repair":true} beside
     * them. A node of ours never prunes a link for a repair's duplicate: repairs arrive late by
     * nature, and a copy that crosses one is not a cycle in the tree. Curriculum nodes are sent
     * the plain form (they would ignore the field, and pass it on).
     */
    static String transaction(String transactionJson, boolean repair) {
        return "{\"type\":\"TRANSACTION\",\"data\":" + transactionJson + (repair ? ",\"repair\":true}" : "}");
    }
}
