package io.fulcrum.balancer.health;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.tls.BackendTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * The connection of one probe, shared by the HTTP and the gRPC check: a fresh connection to the
 * backend (over TLS for {@code https://} backends), the probe's deadline (connect included), and
 * the protocol the probe speaks on it: HTTP/1.1, HTTP/2 (prior knowledge in clear text, {@code h2}
 * by ALPN over TLS), or over TLS whatever ALPN agrees. Once the connection is ready the
 * {@link Exchange} sends the request; the connection closes when the result is complete.
 *
 * <p>Thread-safe: {@link #probe} may be called from any thread; the probe runs on the group's loop
 * and completes the future there.
 */
final class ProbeConnector {
    /** What a probe speaks. */
    enum Speak {
        /** HTTP/1.1 (over TLS without ALPN). */
        HTTP1,
        /** HTTP/2: prior knowledge in clear text, {@code h2} by ALPN over TLS (else the probe fails). */
        HTTP2,
        /** Over TLS, what ALPN agrees ({@code h2} or {@code http/1.1}); HTTP/1.1 in clear text. */
        ALPN
    }

    /** Sends the probe's request on a ready connection and completes the result from its answer. */
    @FunctionalInterface
    interface Exchange {
        /**
         * Called on the connection's loop once it is ready.
         *
         * @param http2 whether the connection speaks HTTP/2 (its codec is in place; see {@link #send});
         *     else it is bare and speaks HTTP/1.1
         */
        void ready(Channel ch, boolean http2, CompletableFuture<HealthCheckResult> result);
    }

    private final Bootstrap bootstrap;
    private final BackendTls tls;
    private final long timeoutNanos;

    /**
     * @param group the event loops of the probes (one thread is plenty)
     * @param channelType the client socket channel type matching {@code group}'s transport
     * @param timeout a probe that has not answered completely by then fails (connect included)
     * @param tls how {@code https://} backends are probed: over TLS, as requests reach them
     */
    ProbeConnector(EventLoopGroup group, Class<? extends Channel> channelType, Duration timeout, BackendTls tls) {
        this.tls = requireNonNull(tls, "tls");
        this.timeoutNanos = requireNonNull(timeout, "timeout").toNanos();
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
        }
        this.bootstrap = new Bootstrap().group(requireNonNull(group, "group"))
                .channel(requireNonNull(channelType, "channelType"))
                .resolver(NoopAddressResolverGroup.INSTANCE)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, Math.min(Integer.MAX_VALUE,
                        timeout.toMillis())))
                .option(ChannelOption.TCP_NODELAY, true);
    }

    /** One probe of {@code backend}: connects, agrees on {@code speak}, and hands over to {@code exchange}. */
    CompletableFuture<HealthCheckResult> probe(Backend backend, Speak speak, Exchange exchange) {
        CompletableFuture<HealthCheckResult> result = new CompletableFuture<>();
        boolean overTls = backend.config().tls();
        ChannelFuture connect;
        try {
            connect = bootstrap.clone().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) throws SSLException {
                    if (overTls) {
                        ch.pipeline().addLast(tls.newHandler(ch.alloc(), backend.host(), backend.port(),
                                speak != Speak.HTTP1));
                    } else if (speak == Speak.HTTP2) {
                        // Prior knowledge: the preface goes out as soon as the connection is up.
                        addHttp2(ch);
                    }
                }
            }).connect(backend.address());
        } catch (RuntimeException e) {
            // The group is shutting down.
            result.complete(HealthCheckResult.failed("probe not started: " + e));
            return result;
        }
        Channel ch = connect.channel();
        closeWhenDone(ch, result);
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                result.complete(HealthCheckResult.failed("connect failed: " + describe(f.cause())));
                return;
            }
            SslHandler handler = ch.pipeline().get(SslHandler.class);
            if (handler == null) {
                exchange.ready(ch, speak == Speak.HTTP2, result);
                return;
            }
            handler.handshakeFuture().addListener(h -> {
                if (!h.isSuccess()) {
                    result.complete(HealthCheckResult.failed("TLS failed: " + describe(h.cause())));
                    return;
                }
                boolean h2 = ApplicationProtocolNames.HTTP_2.equals(handler.applicationProtocol());
                if (speak == Speak.HTTP2 && !h2) {
                    result.complete(HealthCheckResult.failed("backend did not agree to h2 by ALPN (it chose "
                            + handler.applicationProtocol() + ")"));
                } else if (h2 && speak != Speak.HTTP1) {
                    addHttp2(ch);
                    exchange.ready(ch, true, result);
                } else {
                    exchange.ready(ch, false, result);
                }
            });
        });
        return result;
    }

    private static void addHttp2(Channel ch) {
        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
    }

    /**
     * Opens a stream on an HTTP/2 probe connection with {@code answer} as its handler and sends
     * {@code headers}, then {@code body} when there is one; the request ends with the last of them.
     */
    static void send(Channel ch, ChannelHandler answer, Http2Headers headers, byte[] body,
            CompletableFuture<HealthCheckResult> result) {
        new Http2StreamChannelBootstrap(ch).handler(answer).open().addListener(f -> {
            if (!f.isSuccess()) {
                result.complete(HealthCheckResult.failed("stream not opened: " + describe(f.cause())));
                return;
            }
            Channel stream = (Channel) f.getNow();
            if (body == null) {
                stream.writeAndFlush(new DefaultHttp2HeadersFrame(headers, true));
            } else {
                stream.write(new DefaultHttp2HeadersFrame(headers, false));
                stream.writeAndFlush(new DefaultHttp2DataFrame(stream.alloc().buffer(body.length).writeBytes(body),
                        true));
            }
        });
    }

    /** Fails {@code result} as timed out after the timeout, and closes the probe's connection once it is complete. */
    private void closeWhenDone(Channel ch, CompletableFuture<HealthCheckResult> result) {
        ScheduledFuture<?> timer = ch.eventLoop().schedule(
                () -> result.complete(HealthCheckResult.failed("timed out")), timeoutNanos, TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> {
            timer.cancel(false);
            ch.close();
        });
    }

    static String describe(Throwable t) {
        return t == null ? "unknown" : t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
