package io.fulcrum.balancer.http1;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A response head as {@link Http1Decoder} read it: version, status and the header fields as
 * received ({@link RawHeaders}). While the status line is unchanged it is written out again as the
 * bytes it came in. Not thread safe.
 */
public final class RawResponse implements HttpResponse {
    /** The received head; its first {@code lineLength} bytes are the start line with its CRLF. */
    private final byte[] head;
    private final int lineLength;
    private final RawHeaders headers;
    private HttpResponseStatus status;
    private HttpVersion version;
    private boolean lineChanged;
    private DecoderResult result = DecoderResult.SUCCESS;

    RawResponse(byte[] head, int lineLength, HttpVersion version, HttpResponseStatus status, RawHeaders headers) {
        this.head = head;
        this.lineLength = lineLength;
        this.version = version;
        this.status = status;
        this.headers = headers;
    }

    /** A response that could not be parsed: the decoder result says why. */
    static RawResponse failed(Throwable cause) {
        RawResponse r = new RawResponse(null, 0, HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(999), RawHeaders.empty());
        r.lineChanged = true;
        r.result = DecoderResult.failure(cause);
        return r;
    }

    /** Writes the received start line with its CRLF and returns true, or returns false once it changed. */
    boolean writeReceivedLine(io.netty.buffer.ByteBuf out) {
        if (lineChanged) {
            return false;
        }
        out.writeBytes(head, 0, lineLength);
        return true;
    }

    @Override
    public HttpResponseStatus status() {
        return status;
    }

    @Override
    @Deprecated
    public HttpResponseStatus getStatus() {
        return status;
    }

    @Override
    public HttpResponse setStatus(HttpResponseStatus status) {
        if (!requireNonNull(status, "status").equals(this.status)
                || !status.reasonPhrase().equals(this.status.reasonPhrase())) {
            lineChanged = true;
        }
        this.status = status;
        return this;
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
    public HttpResponse setProtocolVersion(HttpVersion version) {
        if (!requireNonNull(version, "version").equals(this.version)) {
            lineChanged = true;
        }
        this.version = version;
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

    @Override
    public String toString() {
        return version + " " + status;
    }
}
