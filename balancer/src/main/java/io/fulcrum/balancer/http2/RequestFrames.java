package io.fulcrum.balancer.http2;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;

/**
 * The frames a client's requests come in, as Netty's connection decoder passes them on after its
 * own checks: a stream's first header block starts its request on a new {@link Http2StreamSide},
 * its DATA and a second header block (the trailers) go to that side. Every other frame is Netty's
 * business (SETTINGS, PING, WINDOW_UPDATE, GOAWAY) or ends a stream by itself: RST_STREAM closes
 * the stream, and the stream's close cancels its exchange.
 *
 * <p>Not thread safe: one per {@link Http2Frontend}, confined to the connection's event loop.
 */
final class RequestFrames extends Http2FrameAdapter {
    private final Http2Frontend frontend;
    /** Where each stream keeps its side. */
    private final Http2Connection.PropertyKey sideKey;

    RequestFrames(Http2Frontend frontend, Http2Connection.PropertyKey sideKey) {
        this.frontend = frontend;
        this.sideKey = sideKey;
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
            boolean endOfStream) throws Http2Exception {
        Http2Stream stream = frontend.connection().stream(streamId);
        if (stream == null) {
            return;
        }
        Http2StreamSide side = stream.getProperty(sideKey);
        if (side != null) {
            if (!endOfStream) {
                // A second header block is a trailer block, and trailers end the stream (RFC 9113 section 8.1).
                frontend.resetStream(ctx, streamId, Http2Error.PROTOCOL_ERROR.code(), ctx.voidPromise());
                return;
            }
            side.onRequestContent(Http2Messages.requestTrailers(headers), 0);
            return;
        }
        HttpRequest request = Http2Messages.request(headers, endOfStream);
        if (request == null) {
            // Malformed (RFC 9113 section 8.1.1): a stream error.
            frontend.resetStream(ctx, streamId, Http2Error.PROTOCOL_ERROR.code(), ctx.voidPromise());
            return;
        }
        side = new Http2StreamSide(frontend, stream);
        stream.setProperty(sideKey, side);
        try {
            side.onRequestHead(request, endOfStream);
        } catch (RuntimeException e) {
            frontend.streamFailed(stream, e);
        }
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
            short weight, boolean exclusive, int padding, boolean endOfStream) throws Http2Exception {
        onHeadersRead(ctx, streamId, headers, padding, endOfStream);
    }

    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
        Http2Stream stream = frontend.connection().stream(streamId);
        Http2StreamSide side = stream == null ? null : stream.getProperty(sideKey);
        if (side == null) {
            return data.readableBytes() + padding;
        }
        // Padding is acknowledged at once; the data as the backend takes it.
        try {
            return padding + side.onData(data, endOfStream);
        } catch (RuntimeException e) {
            frontend.streamFailed(stream, e);
            return data.readableBytes() + padding;
        }
    }
}
