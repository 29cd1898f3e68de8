package io.fulcrum.balancer.http2;

import io.fulcrum.balancer.edge.DeadlineTimer;
import io.fulcrum.balancer.edge.HeadDeadline;
import io.fulcrum.balancer.edge.HeaderBlockWatch;
import io.fulcrum.balancer.edge.HpackIndexing;
import io.fulcrum.balancer.exchange.Exchange;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.fulcrum.balancer.exchange.RequestIntake;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2RemoteFlowController;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of an HTTP/2 connection, handled on the connection itself. Netty's connection
 * handler does the protocol (framing, HPACK, header validation, flow control, the stream limit,
 * and the limit on streams a client resets, against the "rapid reset" attack, CVE-2023-44487);
 * its frame listener ({@link RequestFrames}) gives each stream an {@link Http2StreamSide}: one
 * request, one {@link Exchange}, no channel or pipeline of its own.
 *
 * <p>Flow control is per stream both ways. A stream's request DATA is acknowledged (its window
 * replenished) only as its backend connection takes it, so a slow backend slows only its stream;
 * the connection's own window covers every stream's window, so no stream can starve the others.
 * A stream's response is read from its backend only while the stream's window and the connection
 * can take more ({@link Http2StreamSide#isWritable()}).
 *
 * <p>Writes are flushed once per read batch (Netty's handler flushes at its end) or, for what the
 * backends' answers wrote, once per pass of the event loop. Not thread safe: confined to the
 * connection's event loop.
 */
public final class Http2Frontend extends Http2ConnectionHandler {
    private static final Logger log = LoggerFactory.getLogger(Http2Frontend.class);
    private final ProxyContext proxy;
    private final boolean tls;
    private final int connectionWindow;
    private final Http2Connection.PropertyKey sideKey;
    private ChannelHandlerContext ctx;
    private RequestIntake intake;
    /** Where the client's header blocks begin and end, for request-head; {@code null} without a deadline. */
    private HeaderBlockWatch headerBlocks;
    private boolean inReadBatch;
    /** A flush waits in the event loop's task queue ({@link #flushSoon}). */
    private boolean flushQueued;
    private final Runnable queuedFlush = this::flushQueued;
    private boolean windowGrown;
    /** Streams whose exchanges wrote to their backends during this read batch, flushed at its end. */
    private final ArrayList<Http2StreamSide> toFlush = new ArrayList<>(4);
    /** One response timer per connection, for the earliest deadline of its streams. */
    private final DeadlineTimer responseTimer;

    private Http2Frontend(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings,
            ProxyContext proxy, boolean tls, int maxConcurrentStreams) {
        super(decoder, encoder, settings);
        this.proxy = proxy;
        this.tls = tls;
        this.responseTimer = new DeadlineTimer(proxy.clock(), this::onResponseTimer);
        Integer streamWindow = settings.initialWindowSize();
        long window = (long) (streamWindow == null ? Http2CodecUtil.DEFAULT_WINDOW_SIZE : streamWindow)
                * maxConcurrentStreams;
        this.connectionWindow = (int) Math.min(Http2CodecUtil.MAX_INITIAL_WINDOW_SIZE, window);
        Http2Connection connection = connection();
        this.sideKey = connection.newKey();
        decoder.frameListener(new RequestFrames(this, sideKey));
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                Http2StreamSide side = stream.getProperty(sideKey);
                if (side != null) {
                    side.onStreamClosed();
                }
            }
        });
        connection.remote().flowController().listener(new Http2RemoteFlowController.Listener() {
            @Override
            public void writabilityChanged(Http2Stream stream) {
                Http2StreamSide side = stream.getProperty(sideKey);
                if (side != null) {
                    side.onWritabilityChanged();
                }
            }
        });
    }

    /**
     * A connection handler with the listener's settings.
     *
     * @param tls the connection came in over TLS ({@code X-Forwarded-Proto: https})
     * @param drainMillis how long streams in progress may go on after a GOAWAY
     */
    public static Http2Frontend create(ProxyContext proxy, boolean tls, int maxConcurrentStreams, long maxHeaderBytes,
            long drainMillis) {
        return new Builder(proxy, tls, maxConcurrentStreams, maxHeaderBytes, drainMillis).build();
    }

    private static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<Http2Frontend, Builder> {
        private final ProxyContext proxy;
        private final boolean tls;
        private final int maxConcurrentStreams;

        Builder(ProxyContext proxy, boolean tls, int maxConcurrentStreams, long maxHeaderBytes, long drainMillis) {
            this.proxy = proxy;
            this.tls = tls;
            this.maxConcurrentStreams = maxConcurrentStreams;
            // Netty's defaults otherwise, the limit on client resets among them.
            server(true);
            validateHeaders(true);
            headerSensitivityDetector(HpackIndexing.NOT_INDEXED);
            initialSettings(Http2Settings.defaultSettings()
                    .maxConcurrentStreams(maxConcurrentStreams)
                    .maxHeaderListSize(maxHeaderBytes));
            gracefulShutdownTimeoutMillis(drainMillis);
        }

        @Override
        protected Http2Frontend build() {
            return super.build();
        }

        @Override
        protected Http2Frontend build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                Http2Settings settings) {
            return new Http2Frontend(decoder, encoder, settings, proxy, tls, maxConcurrentStreams);
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        intake = RequestIntake.ofHttp2(proxy, tls, ctx.channel());
        HeadDeadline deadline = HeadDeadline.of(ctx);
        headerBlocks = deadline == null ? null : new HeaderBlockWatch(deadline);
        super.handlerAdded(ctx);
        if (ctx.channel().isActive()) {
            growConnectionWindow();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        super.channelActive(ctx);
        growConnectionWindow();
    }

    /** After the preface (SETTINGS) went out: the connection's window grows to cover every stream's. */
    private void growConnectionWindow() throws Http2Exception {
        if (windowGrown) {
            return;
        }
        windowGrown = true;
        Http2Stream connectionStream = connection().connectionStream();
        int grow = connectionWindow - decoder().flowController().windowSize(connectionStream);
        if (grow > 0) {
            decoder().flowController().incrementWindowSize(connectionStream, grow);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        inReadBatch = true;
        if (headerBlocks != null && msg instanceof ByteBuf bytes) {
            headerBlocks.onBytes(bytes);
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
        inReadBatch = false;
        flushBackends();
        // Flushes what the streams wrote to the client during the batch (window updates included).
        super.channelReadComplete(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        responseTimer.cancel();
        // Closes every stream, which cancels their exchanges.
        super.channelInactive(ctx);
        toFlush.clear();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt == HeadDeadline.EXPIRED) {
            onHeadDeadline();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    /**
     * The connection's first header block was not complete within {@code request-head} of the
     * connection's accept, or a later one within {@code request-head} of its HEADERS frame: GOAWAY
     * and close at once. A header block in progress lets no other frame through (RFC 9113 section
     * 6.10), so a slow one holds every stream of the connection; the streams still in progress
     * end with it. The code is NO_ERROR when no block had begun (an unused connection closed, as at
     * client-idle), ENHANCE_YOUR_CALM when one had (RFC 9113 section 7). The last stream id tells
     * the client that the late block's stream was not processed and may be retried.
     */
    private void onHeadDeadline() {
        Http2Error error = headerBlocks != null && headerBlocks.blockOpen() ? Http2Error.ENHANCE_YOUR_CALM
                : Http2Error.NO_ERROR;
        goAway(ctx, connection().remote().lastStreamCreated(), error.code(), Unpooled.EMPTY_BUFFER, ctx.newPromise())
                .addListener(written -> ctx.close());
        ctx.flush();
    }

    private void flushBackends() {
        for (int i = 0; i < toFlush.size(); i++) {
            toFlush.get(i).flushToBackend();
        }
        toFlush.clear();
    }

    /** A bug met while serving one stream costs that stream, not the connection's others. */
    void streamFailed(Http2Stream stream, RuntimeException e) {
        log.warn("HTTP/2 stream {} of {} failed", stream.id(), ctx.channel().id(), e);
        if (stream.state() != Http2Stream.State.CLOSED) {
            reset(stream, Http2Error.INTERNAL_ERROR);
        }
    }

    /**
     * The balancer began its graceful stop: responses that have no end of their own (event streams)
     * end now ({@link Exchange#onDrain()}), so that the GOAWAY that follows waits only for the others.
     */
    public void onDrain() {
        List<Exchange> open = openExchanges();
        if (open == null) {
            return;
        }
        for (int i = 0; i < open.size(); i++) {
            open.get(i).onDrain();
        }
        flush(ctx);
    }

    /**
     * The exchanges of the streams in progress, gathered first so that what is done to them does
     * not change the streams being walked; {@code null} after a connection error.
     */
    private List<Exchange> openExchanges() {
        List<Exchange> open = new ArrayList<>(2);
        try {
            connection().forEachActiveStream(stream -> {
                Http2StreamSide side = stream.getProperty(sideKey);
                Exchange ex = side == null ? null : side.exchange();
                if (ex != null) {
                    open.add(ex);
                }
                return true;
            });
        } catch (Http2Exception e) {
            onError(ctx, false, e);
            return null;
        }
        return open;
    }

    // ---- for the streams ----

    ChannelHandlerContext context() {
        return ctx;
    }

    RequestIntake intake() {
        return intake;
    }

    boolean inReadBatch() {
        return inReadBatch;
    }

    /** The stream wrote to its backend during a read batch: its exchange flushes at the batch's end. */
    void flushBackendLater(Http2StreamSide side) {
        toFlush.add(side);
    }

    /**
     * Flushes to the client at the end of the read batch under way or, outside one (a backend's
     * answer), once the event loop has handled the rest of the I/O it woke for: the streams whose
     * backends answered in the same pass share one flush, one TLS record and one write, instead of
     * one each.
     */
    void flushSoon() {
        if (!inReadBatch && !flushQueued) {
            flushQueued = true;
            ctx.executor().execute(queuedFlush);
        }
    }

    private void flushQueued() {
        flushQueued = false;
        flush(ctx);
    }

    /** Whether the stream's window and the connection can take more response bytes. */
    boolean isWritable(Http2Stream stream) {
        return connection().remote().flowController().isWritable(stream);
    }

    /** Replenishes the stream's (and the connection's) window by {@code bytes} the backend took. */
    void consume(Http2Stream stream, int bytes) {
        if (bytes == 0) {
            return;
        }
        try {
            decoder().flowController().consumeBytes(stream, bytes);
        } catch (Http2Exception e) {
            onError(ctx, false, e);
        }
    }

    /** Resets the stream; its exchange is cancelled as the stream closes. */
    void reset(Http2Stream stream, Http2Error error) {
        resetStream(ctx, stream.id(), error.code(), ctx.voidPromise());
        flushSoon();
    }

    /**
     * The connection's one response timer, which its streams' exchanges arm for their deadlines. A
     * timer that fires early finds the streams' deadlines and re-arms for the earliest.
     */
    DeadlineTimer responseTimer() {
        return responseTimer;
    }

    private void onResponseTimer() {
        if (!ctx.channel().isActive()) {
            return;
        }
        long now = proxy.clock().nanoTime();
        List<Exchange> open = openExchanges();
        if (open == null) {
            return;
        }
        // Every deadline is read before any timeout runs; the due exchanges move to the front.
        long next = 0;
        int due = 0;
        for (int i = 0; i < open.size(); i++) {
            Exchange ex = open.get(i);
            long deadline = ex.responseDeadline();
            if (deadline != 0) {
                if (now - deadline >= 0) {
                    open.set(due++, ex);
                } else if (next == 0 || deadline - next < 0) {
                    next = deadline;
                }
            }
        }
        for (int i = 0; i < due; i++) {
            open.get(i).onResponseTimeout();
        }
        if (next != 0) {
            responseTimer.arm(ctx.executor(), next);
        }
        flush(ctx);
    }
}
