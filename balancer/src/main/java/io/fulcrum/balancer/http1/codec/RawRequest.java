package io.fulcrum.balancer.http1.codec;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A request head as {@link Http1Decoder} read it: method, target and version, and the header
 * fields as received ({@link RawHeaders}). While the request line is unchanged it is written out
 * again as the bytes it came in. Not thread safe.
 */
public final class RawRequest extends RawMessage implements HttpRequest {
    private HttpMethod method;
    private String uri;

    /**
     * @param head the received head, whose first {@code lineLength} bytes (the request line with
     *     its CRLF) are written out again while method, target and version stay as they are
     */
    RawRequest(byte[] head, int lineLength, HttpMethod method, String uri, HttpVersion version, RawHeaders headers) {
        super(head, lineLength, version, headers);
        this.method = method;
        this.uri = uri;
    }

    /** A request that could not be parsed: the decoder result says why. */
    static RawRequest failed(Throwable cause) {
        RawRequest r = new RawRequest(null, 0, HttpMethod.GET, "/bad-request", HttpVersion.HTTP_1_1, RawHeaders.empty());
        r.fail(cause);
        return r;
    }

    @Override
    public HttpMethod method() {
        return method;
    }

    @Override
    @Deprecated
    public HttpMethod getMethod() {
        return method;
    }

    @Override
    public HttpRequest setMethod(HttpMethod method) {
        this.method = lineValue(this.method, method, "method");
        return this;
    }

    @Override
    public String uri() {
        return uri;
    }

    @Override
    @Deprecated
    public String getUri() {
        return uri;
    }

    @Override
    public HttpRequest setUri(String uri) {
        this.uri = lineValue(this.uri, uri, "uri");
        return this;
    }

    @Override
    public HttpRequest setProtocolVersion(HttpVersion version) {
        super.setProtocolVersion(version);
        return this;
    }

    @Override
    public String toString() {
        return method + " " + uri + " " + protocolVersion();
    }
}
