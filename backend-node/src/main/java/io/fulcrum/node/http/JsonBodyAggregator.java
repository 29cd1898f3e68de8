package io.fulcrum.node.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpExpectationFailedEvent;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Collects a request body up to the configured limit, like {@link HttpObjectAggregator}, but answers
 * an oversized body with the API's JSON 413 error. The connection is then closed: the rest of the
 * body may still be in flight and cannot be skipped reliably (RFC 9110 section 15.5.14 allows closing).
 *
 * <p>Confined to the channel's event loop.
 */
public final class JsonBodyAggregator extends HttpObjectAggregator {
    private final byte[] tooLargeBody;

    /** Creates an aggregator for bodies of at most {@code maxBodyBytes}. */
    public JsonBodyAggregator(int maxBodyBytes, JsonCodec json) {
        super(maxBodyBytes);
        this.tooLargeBody = json.error(ApiError.PAYLOAD_TOO_LARGE,
                "the body is larger than " + maxBodyBytes + " bytes", null);
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        // MessageAggregator releases the oversized message itself after this returns.
        ctx.writeAndFlush(tooLarge()).addListener(ChannelFutureListener.CLOSE);
    }

    /**
     * Answers {@code Expect: 100-continue} (RFC 9110 section 10.1.1). A declared length over the limit
     * gets the API's JSON 413 at once, before the client sends the body, instead of Netty's empty one;
     * the connection is then closed (see {@link #closeAfterContinueResponse}), since a client may send
     * the body anyway. Other expectations keep Netty's answers (100, or 417 for unknown ones).
     */
    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        if (HttpUtil.is100ContinueExpected(start)
                && HttpUtil.getContentLength(start, -1L) > maxContentLength) {
            pipeline.fireUserEventTriggered(HttpExpectationFailedEvent.INSTANCE);
            return tooLarge();
        }
        return super.newContinueResponse(start, maxContentLength, pipeline);
    }

    /** Closes after a refused expectation (413 or 417); a 100 Continue keeps the connection. */
    @Override
    protected boolean closeAfterContinueResponse(Object msg) {
        return ignoreContentAfterContinueResponse(msg);
    }

    private FullHttpResponse tooLarge() {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, Unpooled.wrappedBuffer(tooLargeBody));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, tooLargeBody.length)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return response;
    }
}
