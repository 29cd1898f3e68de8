package io.fulcrum.balancer.health;

import static io.fulcrum.balancer.health.ProbeConnector.describe;
import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.config.BackendTlsConfig;
import io.fulcrum.balancer.tls.BackendTls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Active HTTP health check: {@code GET path} on a fresh connection, on a small dedicated
 * {@link EventLoopGroup} that never carries proxied traffic. A 2xx answer within the timeout is
 * healthy (Envoy and HAProxy's default). When the body is a JSON object with a numeric
 * {@code load} field, as the post server's {@code /health} gives, the figure comes back in the
 * result so routing can weigh the backend's own view of how busy it is.
 *
 * <p>The probe speaks what the pool's requests speak ({@code protocol}): HTTP/1.1 with a
 * {@code Host} header for {@code http1}, HTTP/2 with an {@code :authority} for {@code h2c} (prior
 * knowledge) and {@code h2} (ALPN), and for {@code auto} what the backend agreed to by ALPN, so
 * that a backend speaking only HTTP/2 (a gRPC server) is judged by its answer, not by its
 * refusal of HTTP/1.1.
 *
 * <p>Each probe opens and closes its own connection ({@code Connection: close} over HTTP/1.1): a
 * probe must see whether the backend still accepts connections, which a pooled keep-alive
 * connection would hide.
 *
 * <p>Thread-safe: {@link #check} may be called from any thread; the probe runs on the group's loop
 * and completes the future there.
 */
public final class HttpHealthChecker implements HealthChecker {
    /** Health bodies are small; anything larger is not a health answer we want to buffer. */
    static final int MAX_BODY_BYTES = 16 * 1024;

    private final ProbeConnector connector;
    private final String path;
    private final ObjectMapper json = new ObjectMapper();

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
        this.path = requireNonNull(path, "path");
        this.connector = new ProbeConnector(group, channelType, timeout, tls);
    }

    @Override
    public CompletableFuture<HealthCheckResult> check(Backend backend) {
        ProbeConnector.Speak speak = switch (backend.config().protocol()) {
            case HTTP1 -> ProbeConnector.Speak.HTTP1;
            case H2C, H2 -> ProbeConnector.Speak.HTTP2;
            case AUTO -> ProbeConnector.Speak.ALPN;
        };
        return connector.probe(backend, speak, (ch, http2, result) -> {
            if (http2) {
                Http2Headers headers = new DefaultHttp2Headers().method("GET").path(path)
                        .scheme(backend.config().tls() ? "https" : "http").authority(backend.config().authority())
                        .set(HttpHeaderNames.USER_AGENT, "fulcrum-health")
                        .set(HttpHeaderNames.ACCEPT, HttpHeaderValues.APPLICATION_JSON);
                ProbeConnector.send(ch, new Http2Answer(result), headers, null, result);
            } else {
                http1(ch, backend, result);
            }
        });
    }

    private void http1(Channel ch, Backend backend, CompletableFuture<HealthCheckResult> result) {
        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_BODY_BYTES), new ProbeHandler(result));
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        request.headers()
                .set(HttpHeaderNames.HOST, backend.config().authority())
                .set(HttpHeaderNames.USER_AGENT, "fulcrum-health")
                .set(HttpHeaderNames.ACCEPT, HttpHeaderValues.APPLICATION_JSON)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(HttpHeaderNames.CONTENT_LENGTH, 0);
        ch.writeAndFlush(request).addListener((ChannelFuture w) -> {
            if (!w.isSuccess()) {
                result.complete(HealthCheckResult.failed("write failed: " + describe(w.cause())));
            }
        });
    }

    /** The result of an answer with {@code status} and {@code body}. */
    private HealthCheckResult judged(int status, String statusLine, ByteBuf body) {
        boolean ok = HttpStatusClass.valueOf(status) == HttpStatusClass.SUCCESS;
        return new HealthCheckResult(ok, status, parseLoad(body), "HTTP " + statusLine);
    }

    /**
     * The load figure from a JSON body, or NaN when the body is not a JSON object with a numeric
     * {@code load} field. Never throws: a backend with an odd body is judged by its status alone.
     */
    double parseLoad(ByteBuf body) {
        if (body == null || body.readableBytes() == 0) {
            return Double.NaN;
        }
        try (InputStream in = new ByteBufInputStream(body.duplicate())) {
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
            result.complete(judged(response.status().code(), response.status().toString(), response.content()));
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

    /** Reads the answer on the probe's HTTP/2 stream: head, body (up to {@link #MAX_BODY_BYTES}), trailers. */
    private final class Http2Answer extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<HealthCheckResult> result;
        private ByteBuf body;
        private int status;
        /** Whether the answer's head carried {@code grpc-status}: a gRPC server refusing a plain GET. */
        private boolean grpc;

        Http2Answer(CompletableFuture<HealthCheckResult> result) {
            this.result = result;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                boolean end;
                if (msg instanceof Http2HeadersFrame h) {
                    CharSequence s = h.headers().status();
                    if (s != null) {
                        status = Integer.parseInt(s.toString());
                        if (status / 100 == 1) {
                            // An interim answer (100 Continue, 103 Early Hints): the real one follows.
                            return;
                        }
                    }
                    grpc |= h.headers().contains("grpc-status");
                    end = h.isEndStream();
                } else if (msg instanceof Http2DataFrame d) {
                    if (body == null) {
                        body = ctx.alloc().buffer();
                    }
                    if (body.readableBytes() + d.content().readableBytes() > MAX_BODY_BYTES) {
                        result.complete(HealthCheckResult.failed("probe failed: body over " + MAX_BODY_BYTES + " bytes"));
                        ctx.close();
                        return;
                    }
                    body.writeBytes(d.content());
                    end = d.isEndStream();
                } else {
                    return;
                }
                if (end) {
                    if (status == 0) {
                        result.complete(HealthCheckResult.failed("malformed response: no :status"));
                    } else {
                        result.complete(judged(status, HttpResponseStatus.valueOf(status) + (grpc && status / 100 != 2
                                ? " from a gRPC server (health.type: grpc checks one)" : ""), body));
                    }
                    ctx.close();
                }
            } catch (NumberFormatException e) {
                result.complete(HealthCheckResult.failed("malformed response: :status " + e.getMessage()));
                ctx.close();
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (body != null) {
                body.release();
                body = null;
            }
            result.complete(HealthCheckResult.failed("stream closed before a response"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.complete(HealthCheckResult.failed("probe failed: " + describe(cause)));
            ctx.close();
        }
    }
}
