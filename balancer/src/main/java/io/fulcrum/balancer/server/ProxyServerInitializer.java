package io.fulcrum.balancer.server;

import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.connections.IoUringCloseGuard;
import io.fulcrum.balancer.edge.ErrorResponses;
import io.fulcrum.balancer.edge.HeadDeadline;
import io.fulcrum.balancer.edge.ProxyProtocolHandler;
import io.fulcrum.balancer.edge.TrustedEdges;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.fulcrum.balancer.exchange.RequestIntake;
import io.fulcrum.balancer.http1.Http1Frontend;
import io.fulcrum.balancer.http1.codec.Http1Codec;
import io.fulcrum.balancer.http1.codec.Http1Encoder;
import io.fulcrum.balancer.http2.Http2Frontend;
import io.fulcrum.balancer.tls.HandshakeFailures;
import io.fulcrum.balancer.tls.TlsTerminator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * The client-side pipelines, assembled only here. Connections past {@code max-connections} get a
 * 503 and are closed at once. The others start with the request-head deadline
 * ({@link HeadDeadline}, running from the accept) and client-idle detection, then what decides
 * their protocol
 * ({@link ProtocolSwitch}): TLS and ALPN on the TLS port, HTTP/2's connection preface on the
 * cleartext port, unless HTTP/2 is off. Then:
 *
 * <ul>
 *   <li>HTTP/1.1: Fulcrum's strict decoder and encoder with the configured limits, client-idle
 *       detection, and the proxy handler, which also decides when a connection closes. Pipelined
 *       requests are read no faster than they are answered (reading is explicit), so one read of
 *       at most 64 KiB bounds what a connection queues.
 *   <li>HTTP/2: one connection handler ({@link Http2Frontend}: Netty's HTTP/2 connection
 *       handler, with header validation, flow control, stream limits and its limit on streams
 *       reset by the client, against the "rapid reset" attack) and a small object per stream:
 *       each stream is one request through the same routing, retries, limits and timeouts, with
 *       HTTP/2 flow control as its backpressure.
 * </ul>
 */
public final class ProxyServerInitializer extends ChannelInitializer<SocketChannel> {
    private static final int MAX_CHUNK = 65536;

    private final ProxyContext proxy;
    private final int maxHeaderBytes;
    private final int maxUriBytes;
    private final long clientIdleNanos;
    private final long requestHeadNanos;
    private final long tunnelIdleNanos;
    private final long drainMillis;
    private final boolean h2;
    private final int maxConcurrentStreams;
    private final TlsTerminator tls;

    /**
     * @param tls the HTTPS listener's certificates, which put TLS first in every pipeline, or
     *     {@code null} for the cleartext port
     */
    public ProxyServerInitializer(ProxyContext proxy, BalancerConfig config, TlsTerminator tls) {
        this.proxy = proxy;
        this.maxHeaderBytes = config.limits().maxHeaderBytes();
        this.maxUriBytes = config.limits().maxUriBytes();
        this.clientIdleNanos = config.timeouts().clientIdle().toNanos();
        this.requestHeadNanos = config.timeouts().requestHead().toNanos();
        this.tunnelIdleNanos = config.timeouts().tunnelIdle().toNanos();
        this.drainMillis = config.timeouts().drain().toMillis();
        this.h2 = config.http2().enabled();
        this.maxConcurrentStreams = config.http2().maxConcurrentStreams();
        this.tls = tls;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        IoUringCloseGuard.install(ch);
        if (!proxy.admit(ch)) {
            refuseConnection(ch, "too many connections");
            return;
        }
        TrustedEdges edges = proxy.settings().trustedEdges();
        InetSocketAddress peer = ch.remoteAddress();
        boolean trustedPeer = edges != null && peer != null && edges.trusts(peer.getAddress());
        // Refused before any timer is armed for it: the refusals come when one address floods.
        if (!trustedPeer && peer != null && !proxy.admitClient(ch, peer.getAddress())) {
            refuseConnection(ch, "too many connections from this client");
            return;
        }
        ChannelPipeline p = ch.pipeline();
        // First, so that it sees every byte read; the connection's first head is due from now,
        // PROXY header and TLS handshake included.
        p.addLast("head-deadline", new HeadDeadline(proxy.clock(), requestHeadNanos, proxy::headTimedOut));
        // Then, so that it also covers a client that connects and never finishes a handshake or
        // its first bytes (reads of encrypted bytes count as reads).
        p.addLast("idle", new IdleStateHandler(clientIdleNanos, 0, 0, TimeUnit.NANOSECONDS));
        if (edges != null && edges.proxyProtocol()) {
            // A PROXY header comes before anything else, TLS included; the rest waits for it.
            p.addLast("proxy-detect", new ProxyProtocolHandler(edges, trustedPeer,
                    trustedPeer ? this::afterProxyHeader : this::addFirstProtocol, proxy::proxyHeaderRefused));
        } else {
            addFirstProtocol(p);
        }
    }

    /**
     * Answers a connection past {@code max-connections}, before reading anything of it, with a 503
     * like the balancer's other errors ({@link ErrorResponses}: JSON, a new request id, no-store)
     * and {@code Retry-After}, through an encoder of its own, then closes it.
     */
    private static void refuse(Channel ch, String error) {
        FullHttpResponse response = ErrorResponses.json(ch.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE,
                error, RequestIntake.newRequestId(), true);
        response.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        ch.pipeline().addLast("encoder", new Http1Encoder(true, new ArrayDeque<>()));
        ch.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * A trusted edge's connection after its PROXY header, if any: the header's source is the
     * client whose connections count under {@code connections-per-client}. A trusted edge's own
     * connections (no header, a LOCAL health check, or no PROXY protocol at all) are not capped:
     * one edge speaks for many clients.
     */
    private void afterProxyHeader(ChannelPipeline p) {
        InetSocketAddress source = p.channel().attr(ProxyProtocolHandler.SOURCE).get();
        if (source != null && !proxy.admitClient(p.channel(), source.getAddress())) {
            refuseConnection(p.channel(), "too many connections from this client");
            return;
        }
        addFirstProtocol(p);
    }

    /**
     * Refuses a connection over {@code max-connections} or {@code connections-per-client}: a 503
     * with {@code Retry-After} and a close, as nginx's {@code limit_conn} answers, on the cleartext
     * port; a close at once on the TLS port, where a cleartext answer would be garbage to the client
     * and a TLS one would first cost the handshake the refusal is there to spare.
     */
    private void refuseConnection(Channel ch, String error) {
        if (tls != null) {
            ch.close();
            return;
        }
        refuse(ch, error);
    }

    /** What decides the protocol: TLS and ALPN, or the cleartext HTTP/1.1 codec that spots HTTP/2. */
    private void addFirstProtocol(ChannelPipeline p) {
        if (tls != null) {
            p.addLast("tls", tls.newHandler());
            p.addLast("alpn", new ProtocolSwitch.AlpnSwitch(this));
        } else {
            // HTTP/1.1, unless the decoder finds HTTP/2's preface first.
            Http1Codec.addServer(p, maxUriBytes, maxHeaderBytes, MAX_CHUNK, h2 ? this::fromHttp1ToHttp2 : null)
                    .addLast("proxy", new Http1Frontend(proxy, false, tunnelIdleNanos));
        }
    }

    /** Where failed TLS handshakes are counted. */
    HandshakeFailures handshakeFailures() {
        return proxy.handshakeFailures();
    }

    /** Completes a connection's pipeline for HTTP/1.1. */
    void addHttp1(ChannelPipeline p) {
        Http1Codec.addServer(p, maxUriBytes, maxHeaderBytes, MAX_CHUNK)
                .addLast("proxy", new Http1Frontend(proxy, tls != null, tunnelIdleNanos));
    }

    /** A cleartext connection began with HTTP/2's preface: its HTTP/1.1 handlers make way. */
    private void fromHttp1ToHttp2(ChannelPipeline p) {
        p.remove("proxy");
        p.remove("encoder");
        addHttp2(p);
    }

    /** Completes a connection's pipeline for HTTP/2. */
    void addHttp2(ChannelPipeline p) {
        // Frames of every stream arrive on this connection: it reads as long as it is open, and
        // each stream's flow-control window bounds what it may send unread.
        p.channel().config().setAutoRead(true);
        Http2Frontend frontend = Http2Frontend.create(proxy, tls != null, maxConcurrentStreams, maxHeaderBytes,
                drainMillis);
        p.addLast("h2", frontend)
                .addLast("h2-connection", new ProtocolSwitch.Http2Connection(frontend));
    }

    /**
     * Shared by every accepted connection, as Netty's initializers are: answered here rather than
     * by Netty's per-thread cache of the annotation, a lookup for every new connection.
     */
    @Override
    public boolean isSharable() {
        return true;
    }
}
