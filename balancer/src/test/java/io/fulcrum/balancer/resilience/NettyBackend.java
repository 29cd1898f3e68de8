package io.fulcrum.balancer.resilience;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP backend on real loopback sockets that a test can kill (every connection closed at
 * once, like a crashed process) and start again on the same port. {@code /health} answers with
 * {@link #healthStatus} and a JSON body carrying {@link #load}; every other request counts in
 * {@link #requests()} and gets {@link #status} with the backend's name as body, or waits while
 * {@link #hold} is set until {@link #release()}.
 *
 * <p>Thread-safe: the knobs are volatile, counters atomic; held requests are answered on their own
 * event loops.
 */
final class NettyBackend implements AutoCloseable {
    final String name;
    volatile int status = 200;
    volatile int healthStatus = 200;
    volatile double load = 0.1;
    volatile boolean hold;

    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger healthChecks = new AtomicInteger();
    private final List<Held> held = new ArrayList<>();
    private final Channel server;

    /** Starts on {@code port} (0 for any free port); a restart passes the port of the killed one. */
    NettyBackend(String name, EventLoopGroup group, int port) throws InterruptedException {
        this.name = name;
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        channels.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new Handler());
                    }
                })
                .bind("127.0.0.1", port).sync().channel();
        channels.add(server);
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Requests other than health checks received so far. */
    int requests() {
        return requests.get();
    }

    int healthChecks() {
        return healthChecks.get();
    }

    /** Requests waiting for {@link #release()}. */
    synchronized int heldCount() {
        return held.size();
    }

    /** Answers every held request with the current {@link #status}. */
    void release() {
        List<Held> now;
        synchronized (this) {
            now = new ArrayList<>(held);
            held.clear();
        }
        for (Held h : now) {
            h.ctx.executor().execute(() -> respond(h.ctx, status, name, h.keepAlive));
        }
    }

    /** Kills the backend: the listening socket and every open connection close at once. */
    @Override
    public void close() {
        channels.close().syncUninterruptibly();
    }

    private static void respond(ChannelHandlerContext ctx, int status, String body, boolean keepAlive) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(status), Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, body.startsWith("{") ? "application/json" : "text/plain");
        HttpUtil.setContentLength(response, response.content().readableBytes());
        HttpUtil.setKeepAlive(response, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(response, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private record Held(ChannelHandlerContext ctx, boolean keepAlive) {
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (request.uri().startsWith("/health")) {
                healthChecks.incrementAndGet();
                respond(ctx, healthStatus, "{\"status\":\"UP\",\"node\":\"" + name + "\",\"load\":" + load + "}",
                        keepAlive);
                return;
            }
            requests.incrementAndGet();
            if (hold) {
                synchronized (NettyBackend.this) {
                    held.add(new Held(ctx, keepAlive));
                }
                return;
            }
            respond(ctx, status, name, keepAlive);
        }
    }
}
