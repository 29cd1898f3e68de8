package io.fulcrum.balancer.http1.codec;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpVersion;

/**
 * What a request head and a response head read by {@link Http1Decoder} share: the received head
 * (start line and fields), its fields as {@link RawHeaders}, the version, and whether the start
 * line can still be written out as received. Not thread safe.
 */
abstract class RawMessage implements HttpMessage {
    /** The received head; its first {@code lineLength} bytes are the start line with its CRLF. */
    private final byte[] head;
    private final int lineLength;
    private final RawHeaders headers;
    private HttpVersion version;
    private boolean lineChanged;
    private DecoderResult result = DecoderResult.SUCCESS;

    RawMessage(byte[] head, int lineLength, HttpVersion version, RawHeaders headers) {
        this.head = head;
        this.lineLength = lineLength;
        this.version = version;
        this.headers = headers;
    }

    /** Marks a message that could not be parsed; its start line is never written as received. */
    final void fail(Throwable cause) {
        lineChanged = true;
        result = DecoderResult.failure(cause);
    }

    /** The start line must be written from the current values from now on. */
    final void lineChanged() {
        lineChanged = true;
    }

    /**
     * Returns {@code next}, the new value of a part of the start line, after noting that the line
     * must be written from the current values when it differs from {@code current}.
     */
    final <T> T lineValue(T current, T next, String name) {
        if (!requireNonNull(next, name).equals(current)) {
            lineChanged = true;
        }
        return next;
    }

    /** Writes the received start line with its CRLF and returns true, or returns false once it changed. */
    final boolean writeReceivedLine(ByteBuf out) {
        if (lineChanged) {
            return false;
        }
        out.writeBytes(head, 0, lineLength);
        return true;
    }

    @Override
    public HttpVersion protocolVersion() {
        return version;
    }

    @Override
    @Deprecated
    public HttpVersion getProtocolVersion() {
        return version;
    }

    @Override
    public HttpMessage setProtocolVersion(HttpVersion version) {
        this.version = lineValue(this.version, version, "version");
        return this;
    }

    @Override
    public RawHeaders headers() {
        return headers;
    }

    @Override
    public DecoderResult decoderResult() {
        return result;
    }

    @Override
    @Deprecated
    public DecoderResult getDecoderResult() {
        return result;
    }

    @Override
    public void setDecoderResult(DecoderResult result) {
        this.result = requireNonNull(result, "result");
    }
}
