package io.fulcrum.balancer.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
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
 * asks for a client certificate gets {@code backend-tls.cert} when one is set. HTTP/2 backends are
 * offered {@code h2} by ALPN. The client
 * context is built on first use, so a balancer without TLS backends never loads a TLS engine.
 * Thread-safe.
 */
public final class BackendTls {
    private final BackendTlsConfig config;
    private volatile SslContext context;
    /** The context offering HTTP/2 by ALPN ({@code h2}, then {@code http/1.1}); built on first use. */
    private volatile SslContext alpnContext;

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
                    c = build(false);
                    context = c;
                }
            }
        }
        return c;
    }

    /** The client context that offers {@code h2} and {@code http/1.1} by ALPN; built on first use. */
    private SslContext alpnContext() throws SSLException {
        SslContext c = alpnContext;
        if (c == null) {
            synchronized (this) {
                c = alpnContext;
                if (c == null) {
                    c = build(true);
                    alpnContext = c;
                }
            }
        }
        return c;
    }

    private SslContext build(boolean alpn) throws SSLException {
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(TlsContexts.provider())
                .protocols("TLSv1.3", "TLSv1.2");
        if (config.caFile() != null) {
            builder.trustManager(config.caFile().toFile());
        }
        if (config.certificate() != null) {
            builder.keyManager(config.certificate().chain().toFile(), config.certificate().key().toFile());
        }
        if (alpn) {
            builder.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1));
        }
        return builder.build();
    }

    /** A handler for a new connection to {@code host:port}, verifying the certificate's name. */
    public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) throws SSLException {
        return newHandler(alloc, host, port, false);
    }

    /**
     * A handler for a new connection to {@code host:port}, verifying the certificate's name.
     *
     * @param offerH2 offer HTTP/2 by ALPN ({@code h2}, then {@code http/1.1}); the handler's
     *     {@code applicationProtocol()} says what the backend chose
     */
    public SslHandler newHandler(ByteBufAllocator alloc, String host, int port, boolean offerH2) throws SSLException {
        SslHandler handler = (offerH2 ? alpnContext() : context()).newHandler(alloc, host, port);
        SSLParameters params = handler.engine().getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS");
        handler.engine().setSSLParameters(params);
        return handler;
    }
}
