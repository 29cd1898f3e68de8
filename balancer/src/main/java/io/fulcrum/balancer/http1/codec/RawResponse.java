package io.fulcrum.balancer.http1.codec;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A response head as {@link Http1Decoder} read it: version, status and the header fields as
 * received ({@link RawHeaders}). While the status line is unchanged it is written out again as the
 * bytes it came in. Not thread safe.
 */
public final class RawResponse extends RawMessage implements HttpResponse {
    private HttpResponseStatus status;

    RawResponse(byte[] head, int lineLength, HttpVersion version, HttpResponseStatus status, RawHeaders headers) {
        super(head, lineLength, version, headers);
        this.status = status;
    }

    /** A response that could not be parsed: the decoder result says why. */
    static RawResponse failed(Throwable cause) {
        RawResponse r = new RawResponse(null, 0, HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(999), RawHeaders.empty());
        r.fail(cause);
        return r;
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
        HttpResponseStatus before = this.status;
        this.status = lineValue(before, status, "status");
        if (!status.reasonPhrase().equals(before.reasonPhrase())) {
            // HttpResponseStatus.equals compares the codes only.
            lineChanged();
        }
        return this;
    }

    @Override
    public HttpResponse setProtocolVersion(HttpVersion version) {
        super.setProtocolVersion(version);
        return this;
    }

    @Override
    public String toString() {
        return protocolVersion() + " " + status;
    }
}
