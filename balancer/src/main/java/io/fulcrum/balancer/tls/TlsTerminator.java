package io.fulcrum.balancer.tls;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.TlsConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.Mapping;
import java.util.IdentityHashMap;
import java.util.Map;
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

    /** The contexts by server name, and the certificate of each; swapped together. */
    private volatile Contexts contexts;
    private volatile TlsConfig config;
    private final boolean h2;
    /** The OCSP staples, or {@code null} when nothing is stapled. */
    private volatile OcspStapler stapler;

    private record Contexts(Mapping<String, SslContext> byName, Map<SslContext, TlsConfig.Certificate> certificates) {
        static Contexts of(TlsConfig config, boolean h2) throws SSLException {
            Map<SslContext, TlsConfig.Certificate> certificates = new IdentityHashMap<>();
            return new Contexts(TlsContexts.mapping(config, h2, certificates), certificates);
        }
    }

    /** @param h2 offer HTTP/2 by ALPN besides HTTP/1.1 */
    public TlsTerminator(TlsConfig config, boolean h2) throws SSLException {
        this.h2 = h2;
        this.contexts = Contexts.of(requireNonNull(config, "config"), h2);
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
        contexts = Contexts.of(next, h2);
        config = next;
        OcspStapler s = stapler;
        if (s != null) {
            s.track(next);
        }
        log.info("TLS certificates reloaded ({} certificate(s))", next.certificates().size());
    }

    /**
     * Staples OCSP responses from now on, where the config asks for it and the engine can: the
     * stapler is told the certificates in force now and after each update. Returns whether it is used.
     */
    public boolean staple(OcspStapler ocsp) {
        TlsConfig c = config;
        if (!c.ocspStapling()) {
            return false;
        }
        if (!TlsContexts.staples()) {
            log.info("OCSP stapling needs BoringSSL (netty-tcnative), which did not load: not stapling");
            return false;
        }
        stapler = requireNonNull(ocsp, "ocsp");
        ocsp.track(c);
        return true;
    }

    /** The first handler of a new HTTPS connection. */
    public SniHandler newHandler() {
        return new SniHandler(name -> contexts.byName().map(name), MAX_CLIENT_HELLO, HANDSHAKE_TIMEOUT_MILLIS) {
            @Override
            protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
                SslHandler handler = super.newSslHandler(context, allocator);
                OcspStapler s = stapler;
                if (s != null && handler.engine() instanceof ReferenceCountedOpenSslEngine engine) {
                    TlsConfig.Certificate certificate = contexts.certificates().get(context);
                    byte[] response = certificate == null ? null : s.staple(certificate);
                    if (response != null) {
                        engine.setOcspResponse(response);
                    }
                }
                return handler;
            }
        };
    }
}
