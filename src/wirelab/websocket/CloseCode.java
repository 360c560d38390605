package wirelab.websocket;

/**
 * Every WebSocket close code this project sends, reports or names, in one place: RFC 6455
 * section 7.4.1 for 1000-1011, IANA's "WebSocket Close Code Number Registry" for 1012-1014.
 * A close frame carries one as its first two bytes, big-endian, then an optional UTF-8 reason.
 *
 * <pre>
 * | code | name                       | who sends it here, and why                                          |
 * |------|----------------------------|---------------------------------------------------------------------|
 * | 1000 | NORMAL_CLOSURE             | either side, done: a node stopping, a dial-back no longer needed    |
 * | 1001 | GOING_AWAY                 | the server stopping                                                 |
 * | 1002 | PROTOCOL_ERROR             | the server, on framing the RFC forbids                              |
 * | 1005 | NO_STATUS_RECEIVED         | never sent: a close frame came without a code                       |
 * | 1006 | ABNORMAL_CLOSURE           | never sent: the connection dropped without a close frame            |
 * | 1007 | INVALID_FRAME_PAYLOAD_DATA | the server, on text that is not UTF-8                               |
 * | 1008 | POLICY_VIOLATION           | a node, to a peer past its budget of invalid messages               |
 * | 1009 | MESSAGE_TOO_BIG            | the server, on a message past its limit                             |
 * | 1011 | INTERNAL_ERROR             | the server or a node, when its own handler failed on a message      |
 * | 1013 | TRY_AGAIN_LATER            | the server or a node that is full: unfinished messages, neighbours  |
 * </pre>
 */
public final class CloseCode {

    public static final int NORMAL_CLOSURE = 1000;
    public static final int GOING_AWAY = 1001;
    public static final int PROTOCOL_ERROR = 1002;
    public static final int NO_STATUS_RECEIVED = 1005;
    public static final int ABNORMAL_CLOSURE = 1006;
    public static final int INVALID_FRAME_PAYLOAD_DATA = 1007;
    public static final int POLICY_VIOLATION = 1008;
    public static final int MESSAGE_TOO_BIG = 1009;
    public static final int INTERNAL_ERROR = 1011;
    public static final int TRY_AGAIN_LATER = 1013;

    private CloseCode() {
    }

    /** "1000 NORMAL_CLOSURE"; a code without a name here is its number alone. */
    public static String describe(int code) {
        String name = switch (code) {
            case NORMAL_CLOSURE -> "NORMAL_CLOSURE";
            case GOING_AWAY -> "GOING_AWAY";
            case PROTOCOL_ERROR -> "PROTOCOL_ERROR";
            case NO_STATUS_RECEIVED -> "NO_STATUS_RECEIVED";
            case ABNORMAL_CLOSURE -> "ABNORMAL_CLOSURE";
            case INVALID_FRAME_PAYLOAD_DATA -> "INVALID_FRAME_PAYLOAD_DATA";
            case POLICY_VIOLATION -> "POLICY_VIOLATION";
            case MESSAGE_TOO_BIG -> "MESSAGE_TOO_BIG";
            case INTERNAL_ERROR -> "INTERNAL_ERROR";
            case TRY_AGAIN_LATER -> "TRY_AGAIN_LATER";
            default -> "";
        };
        return code + (name.isEmpty() ? "" : " " + name);
    }

    /**
     * Codes a peer may send (7.4): 1000-1003, 1007-1014 and 3000-4999. The others are reserved,
     * or (1005, 1006, 1015) only ever reported locally, never sent.
     */
    public static boolean maySend(int code) {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }
}
