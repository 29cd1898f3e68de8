package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One cleartext HTTP/2 connection with prior knowledge (RFC 9113 section 3.3), spoken by Netty's
 * own HTTP/2 client: the frame codec and a multiplex handler, one child channel per stream. For
 * tests that need a well-behaved HTTP/2 client; {@link RawHttp2Client} is for exact, possibly
 * invalid, frames.
 *
 * <p>{@link #get} sends a GET on a new stream and aggregates its response;
 * {@link #openStream} opens a stream with the caller's handler, for anything else (resets, many
 * streams at once). Requests are written as HTTP/1.1 objects and converted by
 * {@link Http2StreamFrameToHttpObjectCodec}, so {@code Host} becomes {@code :authority}.
 *
 * <p>The connection runs on an event loop of its own unless one is given; close the client after
 * use. Thread safe as Netty's channels are; the test thread waits, never the event loop.
 */
public final class H2cClient implements AutoCloseable {
    private static final int MAX_RESPONSE_BYTES = 1 << 20;

    /** The loop this client created, shut down on close; null when the caller's is used. */
    private final EventLoopGroup ownGroup;
    private final Channel connection;
    private final int port;

    private H2cClient(EventLoopGroup ownGroup, Channel connection, int port) {
        this.ownGroup = ownGroup;
        this.connection = connection;
        this.port = port;
    }

    /** Connects to {@code 127.0.0.1:port} on an event loop of its own. */
    public static H2cClient connect(int port) throws InterruptedException {
        return connect(port, null, null);
    }

    /**
     * Connects to {@code 127.0.0.1:port} on an event loop of its own after writing
     * {@code firstMessage} through {@code encoder}, e.g. a PROXY protocol header, before the
     * HTTP/2 preface. With a null encoder, nothing precedes the preface.
     */
    public static H2cClient connect(int port, ChannelHandler encoder, Object firstMessage)
            throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel connection = open(group, port, encoder, firstMessage);
            return new H2cClient(group, connection, port);
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** Connects to {@code 127.0.0.1:port} on the caller's {@code group}, which close leaves running. */
    public static H2cClient connect(EventLoopGroup group, int port) throws InterruptedException {
        return new H2cClient(null, open(requireNonNull(group, "group"), port, null, null), port);
    }

    private static Channel open(EventLoopGroup group, int port, ChannelHandler encoder,
            Object firstMessage) throws InterruptedException {
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class);
        if (encoder == null) {
            return b.handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(http2Codec());
                }
            }).connect("127.0.0.1", port).sync().channel();
        }
        Channel connection = b.handler(encoder).connect("127.0.0.1", port).sync().channel();
        connection.writeAndFlush(firstMessage).sync();
        // The codec sends the preface as it is added, so after the first message.
        connection.pipeline().addLast(http2Codec());
        return connection;
    }

    private static ChannelHandler[] http2Codec() {
        return new ChannelHandler[] {Http2FrameCodecBuilder.forClient().build(),
                new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // The server pushes nothing that a test reads.
                    }
                })};
    }

    /** A {@code GET path} as {@link Http2StreamFrameToHttpObjectCodec} takes it, {@code :scheme http}. */
    public static FullHttpRequest getRequest(int port, String path) {
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
                requireNonNull(path, "path"));
        request.headers().set(HttpHeaderNames.HOST, "127.0.0.1:" + port);
        request.headers().set(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), "http");
        return request;
    }

    /** The connection's channel, e.g. to see whether the server closed it. */
    public Channel connection() {
        return connection;
    }

    /** Opens a stream whose child channel's pipeline has {@code handler}; it completes on the event loop. */
    public Future<Http2StreamChannel> openStream(ChannelHandler handler) {
        return new Http2StreamChannelBootstrap(connection).handler(requireNonNull(handler, "handler")).open();
    }

    /**
     * Sends {@code GET path} on a new stream and waits at most {@code within} for its whole
     * response, which the caller releases.
     *
     * @throws TimeoutException if no complete response came within {@code within}
     */
    public FullHttpResponse get(String path, Duration within)
            throws InterruptedException, ExecutionException, TimeoutException {
        CompletableFuture<FullHttpResponse> answer = new CompletableFuture<>();
        Http2StreamChannel stream = openStream(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false),
                        new HttpObjectAggregator(MAX_RESPONSE_BYTES),
                        new SimpleChannelInboundHandler<FullHttpResponse>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                if (!answer.complete(r.retainedDuplicate())) {
                                    ReferenceCountUtil.release(r);
                                }
                            }
                        });
            }
        }).sync().getNow();
        stream.writeAndFlush(getRequest(port, path)).sync();
        try {
            return answer.get(within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // A response that comes after the wait is released by the handler, not leaked.
            if (!answer.completeExceptionally(e)) {
                ReferenceCountUtil.release(answer.getNow(null));
            }
            throw e;
        }
    }

    @Override
    public void close() {
        connection.close().syncUninterruptibly();
        if (ownGroup != null) {
            ownGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
