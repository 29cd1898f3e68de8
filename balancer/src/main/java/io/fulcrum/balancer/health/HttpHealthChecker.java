package io.fulcrum.balancer.health;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.config.BackendTlsConfig;
import io.fulcrum.balancer.tls.BackendTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import javax.net.ssl.SSLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Active HTTP health check: {@code GET path} with a {@code Host} header on a fresh connection, on a
 * small dedicated {@link EventLoopGroup} that never carries proxied traffic. A 2xx answer within the
 * timeout is healthy (Envoy and HAProxy's default). When the body is a JSON object with a numeric
 * {@code load} field, as the post server's {@code /health} gives, the figure comes back in the
 * result so routing can weigh the backend's own view of how busy it is.
 *
 * <p>Each probe opens and closes its own connection ({@code Connection: close}): a probe must see
 * whether the backend still accepts connections, which a pooled keep-alive connection would hide.
 *
 * <p>Thread-safe: {@link #check} may be called from any thread; the probe runs on the group's loop
 * and completes the future there.
 */
public final class HttpHealthChecker implements HealthChecker {
    /** Health bodies are small; anything larger is not a health answer we want to buffer. */
    static final int MAX_BODY_BYTES = 16 * 1024;

    private final Bootstrap bootstrap;
    private final String path;
    private final long timeoutNanos;
    private final ObjectMapper json = new ObjectMapper();
    private final BackendTls tls;

    /**
     * @param group the event loops of the probes (one thread is plenty)
     * @param channelType the client socket channel type matching {@code group}'s transport
     * @param path the request target of the probe, starting with {@code /}
     * @param timeout a probe that has not answered completely by then fails (connect included)
     */
    public HttpHealthChecker(EventLoopGroup group, Class<? extends Channel> channelType, String path,
            Duration timeout) {
        this(group, channelType, path, timeout, new BackendTls(BackendTlsConfig.DEFAULT));
    }

    /** @param tls how {@code https://} backends are probed: over TLS, as requests reach them */
    public HttpHealthChecker(EventLoopGroup group, Class<? extends Channel> channelType, String path,
            Duration timeout, BackendTls tls) {
        requireNonNull(group, "group");
        this.tls = requireNonNull(tls, "tls");
        requireNonNull(channelType, "channelType");
        this.path = requireNonNull(path, "path");
        this.timeoutNanos = requireNonNull(timeout, "timeout").toNanos();
        if (timeoutNanos <= 0) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
        }
        this.bootstrap = new Bootstrap()
                .group(group)
                .channel(channelType)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.max(1, Math.min(Integer.MAX_VALUE,
                        timeout.toMillis())))
                .option(ChannelOption.TCP_NODELAY, true);
    }

    @Override
    public CompletableFuture<HealthCheckResult> check(Backend backend) {
        CompletableFuture<HealthCheckResult> result = new CompletableFuture<>();
        ProbeHandler probe = new ProbeHandler(result);
        ChannelFuture connect;
        try {
            connect = bootstrap.clone()
                    .resolver(NoopAddressResolverGroup.INSTANCE)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) throws SSLException {
                            if (backend.config().tls()) {
                                ch.pipeline().addLast(tls.newHandler(ch.alloc(), backend.host(), backend.port()));
                            }
                            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_BODY_BYTES),
                                    probe);
                        }
                    })
                    .connect(backend.address());
        } catch (RuntimeException e) {
            // The group is shutting down.
            result.complete(HealthCheckResult.failed("probe not started: " + e));
            return result;
        }
        Channel ch = connect.channel();
        closeWhenDone(ch, result, timeoutNanos);
        connect.addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                result.complete(HealthCheckResult.failed("connect failed: " + describe(f.cause())));
                return;
            }
            FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
            request.headers()
                    .set(HttpHeaderNames.HOST, hostHeader(backend))
                    .set(HttpHeaderNames.USER_AGENT, "fulcrum-health")
                    .set(HttpHeaderNames.ACCEPT, HttpHeaderValues.APPLICATION_JSON)
                    .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                    .set(HttpHeaderNames.CONTENT_LENGTH, 0);
            f.channel().writeAndFlush(request).addListener((ChannelFuture w) -> {
                if (!w.isSuccess()) {
                    result.complete(HealthCheckResult.failed("write failed: " + describe(w.cause())));
                }
            });
        });
        return result;
    }

    /** Fails {@code result} as timed out after {@code timeoutNanos}, and closes the probe's connection once it is complete. */
    static void closeWhenDone(Channel ch, CompletableFuture<HealthCheckResult> result, long timeoutNanos) {
        ScheduledFuture<?> timer = ch.eventLoop().schedule(
                () -> result.complete(HealthCheckResult.failed("timed out")), timeoutNanos, TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> {
            timer.cancel(false);
            ch.close();
        });
    }

    /** RFC 9110 section 7.2: the authority of the target, with the port. */
    private static String hostHeader(Backend backend) {
        String host = backend.host();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + backend.port();
    }

    private static String describe(Throwable t) {
        return t == null ? "unknown" : t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    /**
     * The load figure from a JSON body, or NaN when the body is not a JSON object with a numeric
     * {@code load} field. Never throws: a backend with an odd body is judged by its status alone.
     */
    double parseLoad(FullHttpResponse response) {
        if (response.content().readableBytes() == 0) {
            return Double.NaN;
        }
        try (InputStream in = new ByteBufInputStream(response.content().duplicate())) {
            JsonNode node = json.readTree(in);
            if (node != null && node.isObject() && node.get("load") != null && node.get("load").isNumber()) {
                return node.get("load").asDouble();
            }
        } catch (IOException | RuntimeException e) {
            // Not JSON (a plain "OK" is a fine health answer); no load figure then.
        }
        return Double.NaN;
    }

    /** Terminal handler of one probe connection; the aggregated response is released on return. */
    private final class ProbeHandler extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final CompletableFuture<HealthCheckResult> result;

        ProbeHandler(CompletableFuture<HealthCheckResult> result) {
            this.result = result;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
            if (response.decoderResult().isFailure()) {
                result.complete(HealthCheckResult.failed("malformed response: " + describe(response.decoderResult().cause())));
                return;
            }
            boolean ok = response.status().codeClass() == HttpStatusClass.SUCCESS;
            result.complete(new HealthCheckResult(ok, response.status().code(), parseLoad(response),
                    "HTTP " + response.status()));
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.complete(HealthCheckResult.failed("connection closed before a response"));
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // TooLongFrameException from the aggregator lands here too.
            result.complete(HealthCheckResult.failed("probe failed: " + describe(cause)));
            ctx.close();
        }
    }
}
