package io.fulcrum.balancer.http1.codec;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The last part of a message body, with its trailer fields when there were any. Unlike Netty's
 * {@code DefaultLastHttpContent}, whose retain, touch and duplicate methods it keeps, it makes no
 * header map for a body without trailers, which is nearly every body, and its copies and
 * duplicates share the trailers instead of copying them and keep the decoder result.
 */
final class LastContent extends DefaultLastHttpContent {
    LastContent(ByteBuf content) {
        this(content, EmptyHttpHeaders.INSTANCE);
    }

    LastContent(ByteBuf content, HttpHeaders trailers) {
        super(content, trailers);
    }

    /** Netty's {@code copy}, {@code duplicate} and {@code retainedDuplicate} come here. */
    @Override
    public LastHttpContent replace(ByteBuf content) {
        LastContent copy = new LastContent(content, trailingHeaders());
        copy.setDecoderResult(decoderResult());
        return copy;
    }
}
