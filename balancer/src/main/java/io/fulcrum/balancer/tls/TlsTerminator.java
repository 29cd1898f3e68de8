package io.fulcrum.balancer.tls;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.TlsConfig;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.Mapping;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS listener's certificates: hands each new connection an {@link SniHandler} that picks
 * the context for the server name the client asked for. {@link #update} swaps in the contexts of
 * a new config (a reload, or certificate files that changed); connections already open keep the
 * context they started with. Thread-safe: the mapping is one volatile reference.
 */
public final class TlsTerminator {
    private static final Logger log = LoggerFactory.getLogger(TlsTerminator.class);
    /** The largest ClientHello read before the server name is known. */
    private static final int MAX_CLIENT_HELLO = 16 * 1024;
    private static final long HANDSHAKE_TIMEOUT_MILLIS = 10_000;

    private volatile Mapping<String, SslContext> contexts;
    private volatile TlsConfig config;
    private final boolean h2;

    /** @param h2 offer HTTP/2 by ALPN besides HTTP/1.1 */
    public TlsTerminator(TlsConfig config, boolean h2) throws SSLException {
        this.h2 = h2;
        this.contexts = TlsContexts.mapping(requireNonNull(config, "config"), h2);
        this.config = config;
        log.info("TLS on {}:{} with {} ({} certificate(s))", config.listen().host(), config.listen().port(),
                TlsContexts.providerName(), config.certificates().size());
    }

    /**
     * Uses the certificates of {@code next} for new connections. A context that cannot be built
     * leaves the current ones in force and is reported by the exception.
     */
    public void update(TlsConfig next) throws SSLException {
        requireNonNull(next, "next");
        if (next.equals(config)) {
            return;
        }
        contexts = TlsContexts.mapping(next, h2);
        config = next;
        log.info("TLS certificates reloaded ({} certificate(s))", next.certificates().size());
    }

    /** The first handler of a new HTTPS connection. */
    public SniHandler newHandler() {
        return new SniHandler(name -> contexts.map(name), MAX_CLIENT_HELLO, HANDSHAKE_TIMEOUT_MILLIS);
    }
}
