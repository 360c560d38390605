package wirelab.p2p;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a peer's address is, which ones are this node's own, and which ones it may deal with.
 *
 * <ul>
 * <li>An address is {@code ws://host:port} (the curriculum's form), in {@link WsAddress}'s
 *     canonical spelling, so the same server is never counted twice.
 * <li>A node's own address is {@code MY_ADDRESS}: what it says in its HANDSHAKE, what others
 *     dial. It never dials itself under any of its names: that address, {@code localhost} or a
 *     loopback address with its port, or one of its own interface addresses with its port. Two
 *     nodes on different hosts may use the same port; they are different nodes.
 * <li>A HANDSHAKE may make a node dial only hosts in {@code ALLOWED_PEER_HOSTS}: host names,
 *     single addresses and CIDR ranges ({@code 198.18.0.0/24}, {@code fd00::/8}), and the
 *     keyword {@code loopback} (localhost, 127.0.0.0/8, ::1), the default. So a stranger's
 *     HANDSHAKE cannot turn the node against other machines.
 * <li>A browser page may open a WebSocket to the node only from an origin on such a host, or
 *     one listed in {@code ALLOWED_ORIGINS} (exactly, e.g. {@code http://dashboard.lan:8080}):
 *     any other web page the user has open could otherwise write to the network.
 * </ul>
 */
final class PeerAddresses {

    /** In ALLOWED_PEER_HOSTS: localhost, any 127.x.y.z and [::1]. */
    static final String LOOPBACK = "loopback";

    /** One entry of ALLOWED_PEER_HOSTS: a host name, or an address range (a single address is a range of one). */
    private record HostRule(String name, byte[] network, int prefixLength) {
        boolean matches(String host, byte[] address) {
            if (name != null) {
                return name.equals(host);
            }
            if (address == null || address.length != network.length) {
                return false;
            }
            for (int bit = 0; bit < prefixLength; bit++) {
                int mask = 0x80 >> (bit % 8);
                if ((address[bit / 8] & mask) != (network[bit / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    private final String myAddress;
    private final int port;
    private final String allowedPeerHostsText;
    private final boolean loopbackAllowed;
    private final List<HostRule> allowedHosts;
    private final Set<String> allowedOrigins;
    private final Set<String> namedHosts;
    private final Set<InetAddress> ownInterfaceAddresses;

    /** Throws IllegalArgumentException naming a bad entry of ALLOWED_PEER_HOSTS. */
    PeerAddresses(String myAddress, int port, List<String> allowedPeerHosts, List<String> allowedOrigins) {
        this.myAddress = myAddress;
        this.port = port;
        this.allowedPeerHostsText = String.join(",", allowedPeerHosts);
        this.loopbackAllowed = allowedPeerHosts.contains(LOOPBACK);
        this.allowedHosts = new ArrayList<>();
        for (String entry : allowedPeerHosts) {
            if (!entry.equals(LOOPBACK)) {
                allowedHosts.add(parseHostRule(entry));
            }
        }
        this.allowedOrigins = new HashSet<>();
        for (String origin : allowedOrigins) {
            this.allowedOrigins.add(origin.toLowerCase(Locale.ROOT));
        }
        this.namedHosts = namedHosts(myAddress, this.allowedOrigins);
        this.ownInterfaceAddresses = interfaceAddresses();
    }

    /**
     * Ports of other protocols, which a stranger's HANDSHAKE may not make this node dial: the
     * Fetch standard's bad ports (the list browsers refuse), and the usual database ports,
     * whose servers answer whoever connects. 80 and 443 are allowed, as in browsers.
     */
    static final Set<Integer> BAD_PORTS = Set.of(1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69,
            77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179,
            389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990,
            993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669,
            6679, 6697, 10080,
            3306, 5432, 6379, 11211, 27017);   // MySQL, PostgreSQL, Redis, memcached, MongoDB

    /** Why an address may not be dialed: the refusal it is counted as, and the words a log line gives. */
    record DialProblem(Refusal refusal, String why) {
    }

    /**
     * Why this node may not dial a normalized address, or null when it may: its host must be
     * allowed, and an address from a stranger (not from known-peers.json, which the user wrote)
     * may not be on a bad port.
     */
    DialProblem dialProblem(String address, boolean fromStranger) {
        if (!isAllowed(address)) {
            return new DialProblem(Refusal.ADDRESS_NOT_ALLOWED, "its host is not in ALLOWED_PEER_HOSTS " + allowedPeerHosts());
        }
        if (fromStranger && isBadPort(address)) {
            return new DialProblem(Refusal.ADDRESS_ON_BAD_PORT, "its port is on the bad-ports list (a port of another "
                    + "protocol, such as SMTP's 25: dialing it would make this node a tool for port scans)");
        }
        return null;
    }

    /** True when a normalized address's port is on {@link #BAD_PORTS}. */
    static boolean isBadPort(String address) {
        return BAD_PORTS.contains(URI.create(address).getPort());
    }

    /** True when a normalized address names this node. */
    boolean isOwn(String address) {
        if (address.equals(myAddress)) {
            return true;
        }
        URI uri = URI.create(address);
        if (uri.getPort() != port) {
            return false;
        }
        byte[] literal = WsAddress.literalAddress(uri.getHost());
        return isLoopback(uri.getHost()) || (literal != null && ownInterfaceAddresses.stream()
                .anyMatch(own -> Arrays.equals(own.getAddress(), literal)));
    }

    /** True when a normalized address is on a host this node may dial. */
    boolean isAllowed(String address) {
        return isAllowedHost(URI.create(address).getHost());
    }

    /**
     * True when a browser page from {@code origin} (an Origin header: scheme://host[:port]) may
     * open a WebSocket here: its host is loopback or in ALLOWED_PEER_HOSTS, or the origin is
     * listed in ALLOWED_ORIGINS.
     */
    boolean isAllowedOrigin(String origin) {
        if (allowedOrigins.contains(origin.toLowerCase(Locale.ROOT))) {
            return true;
        }
        try {
            String host = new URI(origin).getHost();
            return host != null && (isLoopback(host.toLowerCase(Locale.ROOT)) || isAllowedHost(host.toLowerCase(Locale.ROOT)));
        } catch (URISyntaxException e) {
            return false;   // "null" (a file:// page or a sandbox) and anything unreadable
        }
    }

    /**
     * True when an HTTP Host header ("localhost:4001", "[::1]:4001", "198.18.0.1") names this
     * node: a loopback name or address, MY_ADDRESS's host, a host in ALLOWED_PEER_HOSTS, or the
     * host of an origin in ALLOWED_ORIGINS.
     */
    boolean isServedHost(String hostHeader) {
        URI uri;
        try {
            uri = new URI("http://" + hostHeader.trim() + "/");
        } catch (URISyntaxException e) {
            return false;
        }
        String host = WsAddress.bareHost(uri);
        if (host == null || uri.getRawUserInfo() != null) {
            return false;
        }
        return isLoopback(host) || namedHosts.contains(host) || isAllowedHost(host);
    }

    /** MY_ADDRESS's host and the hosts of ALLOWED_ORIGINS: the names, beyond loopback and allowed peers, this node answers to. */
    private static Set<String> namedHosts(String myAddress, Set<String> allowedOrigins) {
        Set<String> hosts = new HashSet<>();
        hosts.add(WsAddress.bareHost(URI.create(myAddress)));
        for (String origin : allowedOrigins) {
            try {
                String host = WsAddress.bareHost(new URI(origin));
                if (host != null) {
                    hosts.add(host);
                }
            } catch (URISyntaxException e) {
                // not an origin: it names no host
            }
        }
        return Set.copyOf(hosts);
    }

    String allowedPeerHosts() {
        return allowedPeerHostsText;
    }

    private boolean isAllowedHost(String host) {
        if (loopbackAllowed && isLoopback(host)) {
            return true;
        }
        byte[] literal = WsAddress.literalAddress(host);
        return allowedHosts.stream().anyMatch(rule -> rule.matches(host, literal));
    }

    static boolean isLoopback(String host) {
        if (host.equals("localhost")) {
            return true;
        }
        byte[] literal = WsAddress.literalAddress(host);
        try {
            return literal != null && InetAddress.getByAddress(literal).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * True when a connection from {@code remoteHost} (an address, as the socket gives it) may be
     * the node at the normalized {@code address}: it comes from one of the addresses that
     * address's host names. Anything on loopback counts as one host, since a node on this machine
     * dialing {@code localhost} may come from 127.0.0.1 or ::1. A name is looked up (the caller
     * asks only for hosts the user wrote in known-peers.json); one that does not resolve is false.
     */
    static boolean mayComeFrom(String remoteHost, String address) {
        String host = WsAddress.bareHost(URI.create(address));
        if (isLoopback(remoteHost) && isLoopback(host)) {
            return true;
        }
        try {
            InetAddress remote = InetAddress.getByName(remoteHost);   // a literal: parsed, not looked up
            for (InetAddress each : InetAddress.getAllByName(host)) {
                if (each.equals(remote)) {
                    return true;
                }
            }
            return false;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /**
     * The address group that {@link Eviction} counts incoming slots by: an IPv4 /16 or an IPv6
     * /32 of the address a connection comes from (Bitcoin Core's netgroups, without its AS map).
     * On loopback, where every node of one machine shares an address, it is the address the
     * node names for itself, or "loopback" for a connection that names none.
     */
    static String addressGroup(String remoteHost, String claimedAddress) {
        if (isLoopback(remoteHost)) {
            return claimedAddress != null ? claimedAddress : "loopback";
        }
        byte[] address = WsAddress.literalAddress(remoteHost);
        if (address == null) {
            return remoteHost;
        }
        if (address.length == 16 && WsAddress.isIpv4Mapped(address)) {
            address = Arrays.copyOfRange(address, 12, 16);
        }
        return address.length == 4 ? (address[0] & 0xFF) + "." + (address[1] & 0xFF) + ".0.0/16"
                : HexFormat.of().formatHex(address, 0, 4) + "::/32";
    }

    /** Throws IllegalArgumentException naming the first entry that is neither a host, an address, a range nor "loopback". */
    static void check(List<String> allowedPeerHosts) {
        allowedPeerHosts.stream().filter(entry -> !entry.equals(LOOPBACK)).forEach(PeerAddresses::parseHostRule);
    }

    private static HostRule parseHostRule(String entry) {
        int slash = entry.indexOf('/');
        String host = slash < 0 ? entry : entry.substring(0, slash);
        byte[] address = WsAddress.literalAddress(host);
        if (address == null) {
            if (slash >= 0 || !host.matches("[a-z0-9]([a-z0-9.-]*[a-z0-9])?")) {
                throw new IllegalArgumentException("ALLOWED_PEER_HOSTS: '" + entry + "' is not a host name, an address, "
                        + "a CIDR range such as 198.18.0.0/24 or fd00::/8, or the word loopback");
            }
            return new HostRule(host, null, 0);
        }
        int bits = address.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            try {
                prefix = Integer.parseInt(entry.substring(slash + 1));
            } catch (NumberFormatException e) {
                prefix = -1;
            }
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException("ALLOWED_PEER_HOSTS: '" + entry + "' needs a prefix length from 0 to "
                        + bits + " after the /");
            }
        }
        return new HostRule(null, address, prefix);
    }

    /** Every address of this machine's network interfaces (in this network namespace). */
    private static Set<InetAddress> interfaceAddresses() {
        Set<InetAddress> addresses = new HashSet<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                addresses.addAll(Collections.list(nic.getInetAddresses()));
            }
        } catch (SocketException e) {
            // no interfaces to list: only the names above count as our own
        }
        return addresses;
    }

    /** True when listening on {@code host} keeps the node on this machine: localhost or a loopback address. */
    static boolean isLoopbackOnly(String host) {
        return isLoopback(host.toLowerCase(Locale.ROOT));
    }
}
