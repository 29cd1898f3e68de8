package io.fulcrum.node.http;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's admin port: {@code GET /metrics} in the Prometheus text format, apart from the API port
 * that the balancer exposes to clients (so the public port never shows the node's internals).
 * {@code /health} stays on the API port, where the balancer checks it. Anything else is a JSON 404
 * (or 405 with {@code Allow}).
 *
 * <p>A terminal handler: requests are tiny and aggregated, the scrape is rendered on the event loop
 * (micrometer's registry is thread-safe and the scrape does no I/O), and every request is released by
 * {@link SimpleChannelInboundHandler}. One instance per channel; confined to its event loop.
 */
public final class NodeAdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(NodeAdminHandler.class);
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final NodeMetrics metrics;
    private final JsonCodec json;

    /** Creates the handler of one admin connection. */
    public NodeAdminHandler(NodeMetrics metrics, JsonCodec json) {
        this.metrics = requireNonNull(metrics, "metrics");
        this.json = requireNonNull(json, "json");
    }

    /** The pipeline of an admin connection. Thread-safe. */
    public static ChannelInitializer<SocketChannel> initializer(NodeMetrics metrics, JsonCodec json) {
        requireNonNull(metrics, "metrics");
        requireNonNull(json, "json");
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline()
                        .addLast("codec", new HttpServerCodec(4096, 8192, 8192))
                        .addLast("keep-alive", new HttpServerKeepAliveHandler())
                        // Scrapes carry no body; a small limit keeps the port cheap to defend.
                        .addLast("aggregator", new HttpObjectAggregator(4096))
                        .addLast("admin", new NodeAdminHandler(metrics, json));
            }
        };
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        FullHttpResponse response = answer(request);
        if (HttpMethod.HEAD.equals(request.method())) {
            // The headers of the GET, Content-Length included, and no body (RFC 9110 section 9.3.2).
            response.content().clear();
        }
        if (!request.decoderResult().isSuccess() || !HttpUtil.isKeepAlive(request)) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.write(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.write(response);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    private FullHttpResponse answer(FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            return jsonError(ApiError.BAD_REQUEST, "the request could not be parsed", Map.of());
        }
        String path = new QueryStringDecoder(request.uri()).path();
        if (!"/metrics".equals(path)) {
            return jsonError(ApiError.NOT_FOUND, "no route for " + path + " (the admin port serves /metrics)",
                    Map.of());
        }
        HttpMethod method = request.method();
        if (!HttpMethod.GET.equals(method) && !HttpMethod.HEAD.equals(method)) {
            return jsonError(ApiError.METHOD_NOT_ALLOWED, method + " is not allowed here",
                    Map.of(HttpHeaderNames.ALLOW.toString(), "GET, HEAD"));
        }
        return response(HttpResponseStatus.OK, PROMETHEUS_TEXT, metrics.scrape().getBytes(StandardCharsets.UTF_8),
                Map.of());
    }

    private FullHttpResponse jsonError(ApiError error, String detail, Map<String, String> headers) {
        return response(error.status(), "application/json", json.error(error, detail, null), headers);
    }

    private static FullHttpResponse response(HttpResponseStatus status, String type, byte[] body,
            Map<String, String> headers) {
        ByteBuf content = Unpooled.wrappedBuffer(body);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, type)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        headers.forEach((name, value) -> response.headers().set(name, value));
        return response;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Disconnect.afterError(ctx, cause, log, "admin connection " + ctx.channel().id().asShortText());
    }
}
