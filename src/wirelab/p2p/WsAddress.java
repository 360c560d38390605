package wirelab.p2p;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Locale;

/**
 * What a peer's address is on the wire: {@code ws://host:port}, the curriculum's form, in one
 * canonical spelling, so that one server is never counted, or dialed, twice; and the host inside
 * it, a name or an address literal. Which addresses a node may dial is {@link PeerAddresses}'.
 */
final class WsAddress {

    private WsAddress() {
    }

    /** The longest address taken from anyone: a host name is at most 253 characters (RFC 1035). */
    static final int MAX_ADDRESS_CHARS = 300;

    /**
     * "ws://host:port" in canonical form, or null: a lower-case host name without a trailing
     * dot, an IPv4 address as four decimal numbers (an IPv4-mapped IPv6 address, such as
     * [::ffff:7f00:2], becomes one), an IPv6 address in brackets as RFC 5952 writes it, no
     * path. So one server has one spelling, and is never counted, or dialed, twice.
     */
    static String normalize(String address) {
        if (address.length() > MAX_ADDRESS_CHARS) {
            return null;
        }
        try {
            URI uri = new URI(address.trim());
            boolean bare = uri.getRawUserInfo() == null && uri.getRawQuery() == null && uri.getRawFragment() == null
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"));
            if (!"ws".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 1 || uri.getPort() > 65535 || !bare) {
                return null;
            }
            return "ws://" + canonicalHost(uri.getHost().toLowerCase(Locale.ROOT)) + ":" + uri.getPort();
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /** A host as {@link #normalize} writes it; an IPv6 literal keeps its brackets. */
    private static String canonicalHost(String host) {
        byte[] literal = literalAddress(host);
        if (literal == null) {
            return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        }
        if (literal.length == 16 && isIpv4Mapped(literal)) {
            literal = Arrays.copyOfRange(literal, 12, 16);
        }
        if (literal.length == 4) {
            return (literal[0] & 0xFF) + "." + (literal[1] & 0xFF) + "." + (literal[2] & 0xFF) + "." + (literal[3] & 0xFF);
        }
        return "[" + rfc5952(literal) + "]";
    }

    static boolean isIpv4Mapped(byte[] address) {
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return false;
            }
        }
        return (address[10] & 0xFF) == 0xFF && (address[11] & 0xFF) == 0xFF;
    }

    /** An IPv6 address in RFC 5952's text: lower-case hex, no leading zeros, the longest run of two or more zero groups as "::". */
    private static String rfc5952(byte[] address) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((address[2 * i] & 0xFF) << 8) | (address[2 * i + 1] & 0xFF);
        }
        int bestStart = -1;
        int bestLength = 1;   // a single zero group is written as 0, not ::
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }

    /** A URI's host, lower case, an IPv6 address without its brackets; null when it has none. */
    static String bareHost(URI uri) {
        String host = uri.getHost();
        if (host == null) {
            return null;
        }
        host = host.toLowerCase(Locale.ROOT);
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** The bytes of an IPv4 or IPv6 literal ("[::1]" too), or null for a host name. Never asks DNS. */
    static byte[] literalAddress(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        boolean ipv4 = bare.matches("\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
        boolean ipv6 = bare.contains(":") && bare.matches("[0-9a-fA-F:.]+");
        if (!ipv4 && !ipv6) {
            return null;
        }
        try {
            return InetAddress.getByName(bare).getAddress();   // a literal: parsed, not looked up
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
