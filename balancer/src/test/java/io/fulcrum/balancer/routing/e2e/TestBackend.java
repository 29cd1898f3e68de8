package io.fulcrum.balancer.routing.e2e;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A small HTTP/1.1 backend on 127.0.0.1 and an ephemeral port for end-to-end routing tests. It
 * answers every request with 200 and its own id as the body, after an optional delay and after an
 * optional gate the test controls, and counts what it saw: requests received, requests answered,
 * and the highest number it held at once.
 *
 * <p>Delays and gates never block the event loop: a delayed answer is scheduled on it, a gated one
 * is written when the gate's future completes. Thread-safe: counters and the gate may be
 * read and changed from the test thread while traffic runs.
 */
final class TestBackend implements AutoCloseable {
    private final String id;
    private final EventLoopGroup group;
    private final Channel server;
    private final AtomicInteger received = new AtomicInteger();
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicInteger holding = new AtomicInteger();
    private final AtomicInteger maxHolding = new AtomicInteger();
    private final AtomicReference<CompletableFuture<Void>> gate =
            new AtomicReference<>(CompletableFuture.completedFuture(null));
    private final AtomicBoolean closed = new AtomicBoolean();
    private final long delayMillis;

    private TestBackend(String id, long delayMillis) throws InterruptedException {
        this.id = id;
        this.delayMillis = delayMillis;
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("backend-" + id, true),
                NioIoHandler.newFactory());
        try {
            this.server = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                    new Handler());
                        }
                    })
                    .bind("127.0.0.1", 0).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Starts a backend answering after {@code delayMillis} (0: at once). */
    static TestBackend start(String id, long delayMillis) throws InterruptedException {
        return new TestBackend(id, delayMillis);
    }

    String id() {
        return id;
    }

    int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    String url() {
        return "http://127.0.0.1:" + port();
    }

    /** Requests that reached this backend. */
    int received() {
        return received.get();
    }

    /** Requests answered. */
    int answered() {
        return answered.get();
    }

    /** Requests received and not yet answered. */
    int holding() {
        return holding.get();
    }

    /** The most requests held at once since start. */
    int maxHolding() {
        return maxHolding.get();
    }

    /**
     * Holds every request from now on until the returned future is completed (by the test); requests
     * already held stay held until their own gate opens.
     */
    CompletableFuture<Void> closeGate() {
        CompletableFuture<Void> g = new CompletableFuture<>();
        gate.set(g);
        return g;
    }

    /** Stops accepting and closes the listening socket; open connections are closed too. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            received.incrementAndGet();
            int now = holding.incrementAndGet();
            maxHolding.accumulateAndGet(now, Math::max);
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            Runnable answer = () -> respond(ctx, keepAlive);
            long delay = delayMillis;
            gate.get().thenRun(() -> {
                if (delay > 0) {
                    ctx.executor().schedule(answer, delay, TimeUnit.MILLISECONDS);
                } else {
                    ctx.executor().execute(answer);
                }
            });
        }

        private void respond(ChannelHandlerContext ctx, boolean keepAlive) {
            // Counted before the write: the balancer can only see the answer after this point, so
            // "holding" never lags behind what the balancer believes is in flight here.
            holding.decrementAndGet();
            answered.incrementAndGet();
            ByteBuf body = Unpooled.copiedBuffer(id, StandardCharsets.UTF_8);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
            response.headers()
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            if (keepAlive) {
                ctx.writeAndFlush(response, ctx.voidPromise());
            } else {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
