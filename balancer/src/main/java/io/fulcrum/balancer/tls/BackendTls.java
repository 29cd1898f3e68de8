package io.fulcrum.balancer.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.fulcrum.balancer.config.BackendTlsConfig;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

/**
 * TLS toward {@code https://} backends: the server's certificate is verified against the JDK's
 * trust store, or against one CA file when {@code backend-tls.ca-file} names it, and must match the
 * backend's host name (or IP address); SNI names the host. TLS 1.3 and 1.2 only. A backend that
 * asks for a client certificate gets {@code backend-tls.cert} when one is set. The client
 * context is built on first use, so a balancer without TLS backends never loads a TLS engine.
 * Thread-safe.
 */
public final class BackendTls {
    private final BackendTlsConfig config;
    private volatile SslContext context;

    public BackendTls(BackendTlsConfig config) {
        this.config = java.util.Objects.requireNonNull(config, "config");
    }

    /** The client context; built on first use. */
    public SslContext context() throws SSLException {
        SslContext c = context;
        if (c == null) {
            synchronized (this) {
                c = context;
                if (c == null) {
                    SslContextBuilder builder = SslContextBuilder.forClient()
                            .sslProvider(TlsContexts.provider())
                            .protocols("TLSv1.3", "TLSv1.2");
                    if (config.caFile() != null) {
                        builder.trustManager(config.caFile().toFile());
                    }
                    if (config.certificate() != null) {
                        builder.keyManager(config.certificate().chain().toFile(), config.certificate().key().toFile());
                    }
                    c = builder.build();
                    context = c;
                }
            }
        }
        return c;
    }

    /** A handler for a new connection to {@code host:port}, verifying the certificate's name. */
    public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) throws SSLException {
        SslHandler handler = context().newHandler(alloc, host, port);
        SSLParameters params = handler.engine().getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        handler.engine().setSSLParameters(params);
        return handler;
    }
}
