package io.fulcrum.balancer.http1;

import static java.util.Objects.requireNonNull;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A request head as {@link Http1Decoder} read it: method, target and version, and the header
 * fields as received ({@link RawHeaders}). While the request line is unchanged it is written out
 * again as the bytes it came in. Not thread safe.
 */
public final class RawRequest implements HttpRequest {
    /** The received head; its first {@code lineLength} bytes are the start line with its CRLF. */
    private final byte[] head;
    private final int lineLength;
    private final RawHeaders headers;
    private HttpMethod method;
    private String uri;
    private HttpVersion version;
    private boolean lineChanged;
    private DecoderResult result = DecoderResult.SUCCESS;

    /**
     * @param head the received head, whose first {@code lineLength} bytes (the request line with
     *     its CRLF) are written out again while method, target and version stay as they are
     */
    RawRequest(byte[] head, int lineLength, HttpMethod method, String uri, HttpVersion version, RawHeaders headers) {
        this.head = head;
        this.lineLength = lineLength;
        this.method = method;
        this.uri = uri;
        this.version = version;
        this.headers = headers;
    }

    /** A request that could not be parsed: the decoder result says why. */
    static RawRequest failed(Throwable cause) {
        RawRequest r = new RawRequest(null, 0, HttpMethod.GET, "/bad-request", HttpVersion.HTTP_1_1, RawHeaders.empty());
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
        if (!requireNonNull(method, "method").equals(this.method)) {
            lineChanged = true;
        }
        this.method = method;
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
        if (!requireNonNull(uri, "uri").equals(this.uri)) {
            lineChanged = true;
        }
        this.uri = uri;
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
    public HttpRequest setProtocolVersion(HttpVersion version) {
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
        return method + " " + uri + " " + version;
    }
}
