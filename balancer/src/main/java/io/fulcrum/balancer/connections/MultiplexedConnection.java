package io.fulcrum.balancer.connections;

import io.fulcrum.balancer.edge.HpackIndexing;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/2 connection to a backend, shared by the streams of many requests (Netty's
 * {@link Http2FrameCodec} and {@link Http2MultiplexHandler}: each stream is a child channel). It
 * counts its open streams against the backend's {@code SETTINGS_MAX_CONCURRENT_STREAMS}, so that
 * {@link Http2Connections} opens another connection when it is full; streams over the limit that
 * race a lowered setting wait in Netty's buffering encoder instead of failing. It stops taking new
 * streams on GOAWAY (the streams it allows finish; those above its last stream id are refused and
 * retried elsewhere) and closes once the last one ends. When it has read nothing for a while it
 * sends a PING, and closes when the next quiet period passes without the answer; a connection
 * without streams closes after {@code timeouts.backend-idle}.
 *
 * <p>Flow control: each stream's window is {@value #STREAM_WINDOW} bytes and the connection's is
 * large enough for many of them, so one stream whose client reads slowly (its stream channel is
 * not read, its window not replenished) holds no more than its window and never stalls the others.
 *
 * <p>Not thread safe: confined to the connection's event loop.
 */
final class MultiplexedConnection extends ChannelDuplexHandler {
    private static final Logger log = LoggerFactory.getLogger(MultiplexedConnection.class);
    /** Streams a connection is assumed to take before the backend's first SETTINGS say otherwise. */
    static final int ASSUMED_STREAMS = 100;
    static final int STREAM_WINDOW = 256 * 1024;
    private static final int CONNECTION_WINDOW = 32 * 1024 * 1024;

    private final String key;
    private final ChannelHandler streamHandler;
    private final long idleNanos;
    private final Runnable onClosed;
    /** Where a stream goes that found this connection full once its SETTINGS came. */
    private final Consumer<Promise<Channel>> overflow;
    /** Succeeds with the connection once the backend's first SETTINGS came; fails when it cannot be made. */
    final Promise<Channel> ready;
    private Channel channel;
    private Http2FrameCodec codec;
    /** Streams waiting for the connection to be ready. */
    private int reserved;
    /** Streams open (or being opened) and not yet closed. */
    private int streams;
    /** No new streams: GOAWAY came, or its address is no longer in use. */
    private boolean draining;
    private boolean pingOutstanding;
    private long idleSinceNanos = System.nanoTime();

    MultiplexedConnection(String key, Promise<Channel> ready, ChannelHandler streamHandler, long idleNanos,
            Runnable onClosed, Consumer<Promise<Channel>> overflow) {
        this.key = key;
        this.overflow = overflow;
        this.ready = ready;
        this.streamHandler = streamHandler;
        this.idleNanos = idleNanos;
        this.onClosed = onClosed;
    }

    String key() {
        return key;
    }

    Channel channel() {
        return channel;
    }

    /** Adds HTTP/2 to the connection's pipeline (after TLS, if any); the preface goes out at once. */
    void start(Channel ch, long pingNanos) {
        codec = Http2FrameCodecBuilder.forClient()
                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false).initialWindowSize(STREAM_WINDOW))
                .encoderEnforceMaxConcurrentStreams(true)
                .headerSensitivityDetector(HpackIndexing.NOT_INDEXED)
                .build();
        ch.pipeline().addLast("h2", codec);
        // Server push is off (SETTINGS_ENABLE_PUSH 0): no stream is ever opened by the backend.
        ch.pipeline().addLast("h2-streams", new Http2MultiplexHandler(new ChannelDuplexHandler()));
        ch.pipeline().addLast("h2-quiet", new IdleStateHandler(pingNanos, 0, 0, TimeUnit.NANOSECONDS));
        ch.pipeline().addLast("h2-connection", this);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            growWindow(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // The codec before this handler sent the preface and SETTINGS on this event.
        ctx.fireChannelActive();
        growWindow(ctx);
    }

    /** Widens the connection's receive window past the default 64 KiB, for many streams' worth. */
    private static void growWindow(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE));
    }

    /** Remembers the channel and what its close means; called once its connect began. */
    void attach(Channel ch) {
        channel = ch;
        ch.closeFuture().addListener(f -> {
            draining = true;
            ready.tryFailure(new ClosedChannelException());
            onClosed.run();
        });
    }

    /** The streams this connection takes: the backend's limit, or an assumption before its SETTINGS came. */
    private int capacity() {
        return ready.isSuccess() ? codec.connection().local().maxActiveStreams() : ASSUMED_STREAMS;
    }

    /** Whether another stream may be opened on this connection now. */
    boolean hasRoom() {
        return !draining && channel.isOpen() && streams + reserved < capacity();
    }

    /** No new streams from now on; closes once those open end. */
    void drain() {
        draining = true;
        if (streams == 0 && reserved == 0) {
            channel.close();
        }
    }

    /**
     * Opens a stream whose pipeline is the stream handler's, with reads on demand (the exchange reads
     * the response as its client takes it). The future completes at once when the connection is ready.
     */
    Future<Channel> openStream() {
        Promise<Channel> stream = channel.eventLoop().newPromise();
        if (ready.isDone()) {
            open(stream);
        } else {
            reserved++;
            ready.addListener(f -> {
                reserved--;
                if (ready.isSuccess() && !draining && streams >= capacity()) {
                    // The backend takes fewer streams than assumed: this one goes elsewhere.
                    overflow.accept(stream);
                } else {
                    open(stream);
                }
            });
        }
        return stream;
    }

    private void open(Promise<Channel> stream) {
        if (!ready.isSuccess() || stream.isCancelled()) {
            stream.tryFailure(ready.isSuccess() ? new CancellationException() : ready.cause());
            return;
        }
        streams++;
        new Http2StreamChannelBootstrap(channel).handler(streamHandler).option(ChannelOption.AUTO_READ, false).open()
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        streamClosed();
                        stream.tryFailure(f.cause());
                        return;
                    }
                    Channel child = (Channel) f.getNow();
                    child.closeFuture().addListener(c -> streamClosed());
                    if (!stream.trySuccess(child)) {
                        child.close();
                    }
                });
    }

    private void streamClosed() {
        if (--streams == 0) {
            idleSinceNanos = System.nanoTime();
            if (draining) {
                channel.close();
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2SettingsFrame) {
            // The backend's first SETTINGS: its stream limit is known, the connection is ready.
            ready.trySuccess(ctx.channel());
        } else if (msg instanceof Http2PingFrame ping && ping.ack()) {
            pingOutstanding = false;
        } else if (msg instanceof Http2GoAwayFrame goAway) {
            log.debug("backend connection {} ({}): GOAWAY {} after stream {}", ctx.channel().id(), key,
                    goAway.errorCode(), goAway.lastStreamId());
            drain();
        }
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof IdleStateEvent)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        if (pingOutstanding) {
            // A whole quiet period without the PING's answer: the backend or the path is gone.
            log.debug("backend connection {} ({}): no PING answer, closing", ctx.channel().id(), key);
            ctx.close();
        } else if (streams == 0 && System.nanoTime() - idleSinceNanos >= idleNanos) {
            ctx.close();
        } else {
            pingOutstanding = true;
            ctx.writeAndFlush(new DefaultHttp2PingFrame(System.nanoTime()));
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("backend connection {} ({}) failed: {}", ctx.channel().id(), key, cause.toString());
        ctx.close();
    }
}
