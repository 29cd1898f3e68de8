package io.fulcrum.node.http;

import static java.util.Objects.requireNonNull;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Assembles the pipeline of an accepted connection: HTTP/1.1 codec with header limits, an idle timer
 * that closes silent connections, the body aggregator with the configured limit, and the API handler.
 * Bodies of the post API are small, so aggregating them (with a hard limit) is simpler than streaming.
 *
 * <p>Thread-safe; {@code initChannel} runs on each new channel's event loop.
 */
public final class NodeServerInitializer extends ChannelInitializer<SocketChannel> {
    private static final int MAX_INITIAL_LINE = 4096;
    private static final int MAX_HEADER_BYTES = 16_384;
    private static final int MAX_CHUNK = 8192;
    private static final int IDLE_SECONDS = 60;

    private final ApiRouter router;
    private final PostRoutes routes;
    private final JsonCodec json;
    private final NodeMetrics metrics;
    private final int maxBodyBytes;
    private final EventFeed feed;

    /** Creates the initializer; {@code feed} serves {@code GET /events}. */
    public NodeServerInitializer(ApiRouter router, PostRoutes routes, JsonCodec json, NodeMetrics metrics,
            int maxBodyBytes, EventFeed feed) {
        this.router = requireNonNull(router, "router");
        this.routes = requireNonNull(routes, "routes");
        this.json = requireNonNull(json, "json");
        this.metrics = requireNonNull(metrics, "metrics");
        this.maxBodyBytes = maxBodyBytes;
        this.feed = requireNonNull(feed, "feed");
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.pipeline()
                .addLast("codec", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_BYTES, MAX_CHUNK))
                .addLast("idle", new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS))
                .addLast("idle-close", new IdleCloseHandler())
                .addLast("aggregator", new JsonBodyAggregator(maxBodyBytes, json))
                .addLast("api", new ApiHandler(router, routes, json, metrics, feed));
    }

    /** Closes a connection that was idle for too long, so idle keep-alive clients cannot pin sockets. */
    private static final class IdleCloseHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent) {
                ctx.close();
            } else {
                super.userEventTriggered(ctx, evt);
            }
        }
    }
}
