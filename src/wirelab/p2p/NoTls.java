package wirelab.p2p;

import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.security.SecureRandom;
import java.util.concurrent.Executor;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * The JDK client every outgoing connection of a node goes through, on the node's virtual
 * threads. Peers are dialed at ws:// only ({@link WsAddress#normalize} takes no other
 * scheme), so the client is given a TLS context that is never set up: left to itself it
 * would build the JDK's default one at start, reading and parsing every CA certificate the
 * JDK trusts, for a protocol it never speaks: 550 classes, 4 MB of start-up cache and 9 MB
 * resident per node, measured (test/wirelab/bench/README.md, where the memory goes).
 */
final class NoTls extends SSLContext {

    /**
     * The node's one HttpClient: its WebSocket builder dials every outgoing connection, through
     * the HTTP CONNECT proxy at {@code linkProxy} (host:port) when there is one.
     */
    static HttpClient newClient(Executor executor, String linkProxy) {
        HttpClient.Builder builder = HttpClient.newBuilder().executor(executor).sslContext(new NoTls());
        if (linkProxy != null) {
            int colon = linkProxy.lastIndexOf(':');
            builder.proxy(ProxySelector.of(InetSocketAddress.createUnresolved(linkProxy.substring(0, colon),
                    Integer.parseInt(linkProxy.substring(colon + 1)))));
        }
        return builder.build();
    }

    /** A TLS context that answers what the client asks at start (its default parameters) and refuses to do TLS. */
    private NoTls() {
        super(new SSLContextSpi() {
            @Override
            protected void engineInit(KeyManager[] keys, TrustManager[] trust, SecureRandom random) {
            }

            @Override
            protected SSLSocketFactory engineGetSocketFactory() {
                throw refused();
            }

            @Override
            protected SSLServerSocketFactory engineGetServerSocketFactory() {
                throw refused();
            }

            @Override
            protected SSLEngine engineCreateSSLEngine() {
                throw refused();
            }

            @Override
            protected SSLEngine engineCreateSSLEngine(String host, int port) {
                throw refused();
            }

            @Override
            protected SSLSessionContext engineGetServerSessionContext() {
                throw refused();
            }

            @Override
            protected SSLSessionContext engineGetClientSessionContext() {
                throw refused();
            }

            @Override
            protected SSLParameters engineGetDefaultSSLParameters() {
                return new SSLParameters();
            }

            @Override
            protected SSLParameters engineGetSupportedSSLParameters() {
                return new SSLParameters();
            }
        }, null, "none");
    }

    private static UnsupportedOperationException refused() {
        return new UnsupportedOperationException("a node dials ws:// only, never wss://");
    }
}
