package io.fulcrum.node.http;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * One open {@code GET /events} response: a {@code text/event-stream} with chunked framing that
 * never ends on its own, fed by the node's {@link EventFeed}. Every piece is flushed as it is
 * written: the point of the stream is that each event leaves at once.
 *
 * <p>Thread-safe: its methods run on the feed's thread and only call thread-safe channel methods
 * ({@code writeAndFlush} hands the write to the channel's event loop, in call order). No buffer is
 * pooled: each write wraps the feed's bytes, which the encoder releases after writing.
 */
final class EventStream implements EventFeed.Subscriber {
    private final Channel channel;
    private final byte[] refusal;

    /** @param refusal the JSON body of the 503 sent when the store cannot be read */
    EventStream(Channel channel, byte[] refusal) {
        this.channel = requireNonNull(channel, "channel");
        this.refusal = requireNonNull(refusal, "refusal");
    }

    @Override
    public void opened(byte[] preamble) {
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8")
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE)
                .set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED)
                // For nginx-style proxies in front: do not buffer this response.
                .set("X-Accel-Buffering", "no");
        channel.write(head);
        channel.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(preamble)));
    }

    @Override
    public void refused() {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SERVICE_UNAVAILABLE,
                Unpooled.wrappedBuffer(refusal));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, refusal.length)
                .set(HttpHeaderNames.RETRY_AFTER, "1")
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        channel.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public boolean send(byte[] events) {
        if (!channel.isActive()) {
            return false;
        }
        if (!channel.isWritable()) {
            // The client does not read what it was sent: rather than queue without bound, close;
            // its EventSource reconnects with Last-Event-ID and gets what it missed.
            channel.close();
            return false;
        }
        channel.writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(events)), channel.voidPromise());
        return true;
    }
}
