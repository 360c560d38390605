package wirelab.p2p;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;

/**
 * What a peer's address is, and which ones a node may dial. An address is {@code ws://host:port}
 * (the curriculum's form), kept in one canonical spelling so that the same server is never
 * counted twice; a node never dials itself; and a HANDSHAKE can make a node dial only hosts in
 * {@code ALLOWED_PEER_HOSTS}, so that a stranger's HANDSHAKE cannot turn it against other
 * machines.
 */
final class PeerAddresses {

    /** In ALLOWED_PEER_HOSTS: localhost, any 127.x.y.z and [::1]. */
    static final String LOOPBACK = "loopback";

    private final int port;
    private final String host;
    private final Set<String> allowedPeerHosts;

    PeerAddresses(int port, String host, Set<String> allowedPeerHosts) {
        this.port = port;
        this.host = host;
        this.allowedPeerHosts = allowedPeerHosts;
    }

    /** "ws://host:port" in canonical form (lower-case host, no trailing slash), or null. */
    static String normalize(String address) {
        try {
            URI uri = new URI(address.trim());
            boolean bare = uri.getRawUserInfo() == null && uri.getRawQuery() == null && uri.getRawFragment() == null
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"));
            if (!"ws".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 1 || !bare) {
                return null;
            }
            return "ws://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + uri.getPort();
        } catch (URISyntaxException e) {
            return null;
        }
    }

    /** True when a normalized address names this node. */
    boolean isOwn(String address) {
        URI uri = URI.create(address);
        return uri.getPort() == port && (isLoopback(uri.getHost()) || uri.getHost().equals(host));
    }

    /** True when a normalized address is on a host this node may dial. */
    boolean isAllowed(String address) {
        String peerHost = URI.create(address).getHost();
        return allowedPeerHosts.contains(peerHost) || (allowedPeerHosts.contains(LOOPBACK) && isLoopback(peerHost));
    }

    Set<String> allowedPeerHosts() {
        return allowedPeerHosts;
    }

    static boolean isLoopback(String host) {
        return host.equals("localhost") || host.equals("[::1]") || host.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }
}
