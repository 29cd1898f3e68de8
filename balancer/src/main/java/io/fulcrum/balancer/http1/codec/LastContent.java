package io.fulcrum.balancer.http1.codec;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.LastHttpContent;

/**
 * The last part of a message body, with its trailer fields when there were any. Unlike Netty's
 * {@code DefaultLastHttpContent} it makes no header map for a body without trailers, which is
 * nearly every body.
 */
final class LastContent extends DefaultHttpContent implements LastHttpContent {
    private final HttpHeaders trailers;

    LastContent(ByteBuf content) {
        this(content, EmptyHttpHeaders.INSTANCE);
    }

    LastContent(ByteBuf content, HttpHeaders trailers) {
        super(content);
        this.trailers = trailers;
    }

    @Override
    public HttpHeaders trailingHeaders() {
        return trailers;
    }

    @Override
    public LastHttpContent copy() {
        return replace(content().copy());
    }

    @Override
    public LastHttpContent duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public LastHttpContent retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public LastHttpContent replace(ByteBuf content) {
        LastContent copy = new LastContent(content, trailers);
        copy.setDecoderResult(decoderResult());
        return copy;
    }

    @Override
    public LastHttpContent retain() {
        super.retain();
        return this;
    }

    @Override
    public LastHttpContent retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public LastHttpContent touch() {
        super.touch();
        return this;
    }

    @Override
    public LastHttpContent touch(Object hint) {
        super.touch(hint);
        return this;
    }
}
