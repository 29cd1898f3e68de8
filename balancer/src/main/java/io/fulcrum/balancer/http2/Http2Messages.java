package io.fulcrum.balancer.http2;

import io.fulcrum.balancer.exchange.Exchange;
import io.fulcrum.balancer.http1.codec.RawHeaders;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.Map;

/**
 * The conversions between an HTTP/2 stream's header blocks and the HTTP/1.1 messages an
 * {@link Exchange} handles, done directly: no extension headers, no second validation of what a
 * codec already validated (the HTTP/2 decoder validates what clients send; the backend's HTTP/1.1
 * decoder what backends send). Stateless.
 */
final class Http2Messages {
    /** Names and values came through the HTTP/2 decoder's validation. */
    private static final HttpHeadersFactory TRUSTED = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");

    private Http2Messages() {
    }

    /**
     * The request of a stream's first header block, as HTTP/1.1: {@code :method} and
     * {@code :path} (for CONNECT {@code :authority}) make the request line, {@code :authority}
     * becomes Host, several {@code cookie} fields become one joined with "; " (RFC 9113 section
     * 8.2.3), and a body of unknown length is sent chunked.
     *
     * @param endStream the header block ended the stream: the request has no body
     * @return the request, or {@code null} when it is malformed (a pseudo-header missing, a bad method)
     */
    static HttpRequest request(Http2Headers h2, boolean endStream) {
        CharSequence method = h2.method();
        if (method == null) {
            return null;
        }
        CharSequence authority = h2.authority();
        CharSequence target = HttpMethod.CONNECT.asciiName().contentEquals(method) ? authority : h2.path();
        if (target == null) {
            return null;
        }
        HttpMethod httpMethod;
        try {
            httpMethod = HttpMethod.valueOf(method.toString());
        } catch (IllegalArgumentException e) {
            return null;
        }
        HttpHeaders headers = TRUSTED.newHeaders();
        if (authority != null) {
            headers.add(HttpHeaderNames.HOST, authority);
        }
        StringBuilder cookies = null;
        CharSequence cookie = null;
        for (Map.Entry<CharSequence, CharSequence> field : h2) {
            CharSequence name = field.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                continue;
            }
            if (HttpHeaderNames.COOKIE.contentEquals(name)) {
                if (cookie == null) {
                    cookie = field.getValue();
                } else {
                    if (cookies == null) {
                        cookies = new StringBuilder().append(cookie);
                    }
                    cookies.append("; ").append(field.getValue());
                }
                continue;
            }
            if (authority != null && HttpHeaderNames.HOST.contentEquals(name)) {
                // :authority stands for Host (RFC 9113 section 8.3.1).
                continue;
            }
            headers.add(name, field.getValue());
        }
        if (cookie != null) {
            headers.add(HttpHeaderNames.COOKIE, cookies != null ? cookies.toString() : cookie);
        }
        if (!endStream && !headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            // DATA frames follow with no announced length: the backend gets them chunked.
            headers.add(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, httpMethod, target.toString(), headers);
    }

    /** A trailer block from the client, as the request's last part. */
    static LastHttpContent requestTrailers(Http2Headers h2) {
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, TRUSTED);
        for (Map.Entry<CharSequence, CharSequence> field : h2) {
            CharSequence name = field.getKey();
            if (name.length() == 0 || name.charAt(0) != ':') {
                last.trailingHeaders().add(name, field.getValue());
            }
        }
        return last;
    }

    /**
     * A response head as an HTTP/2 header block: {@code :status}, then the fields with lower-case
     * names, less the connection-specific ones HTTP/2 forbids (RFC 9113 section 8.2.2).
     */
    static Http2Headers responseHeaders(HttpResponse response) {
        HttpHeaders headers = response.headers();
        Http2Headers out = new DefaultHttp2Headers(false, headers.size() + 1);
        out.status(response.status().codeAsText());
        copyFields(headers, out);
        return out;
    }

    /** Trailer fields as an HTTP/2 header block. */
    static Http2Headers trailers(HttpHeaders trailers) {
        Http2Headers out = new DefaultHttp2Headers(false, trailers.size());
        copyFields(trailers, out);
        return out;
    }

    private static void copyFields(HttpHeaders headers, Http2Headers out) {
        if (headers instanceof RawHeaders) {
            ((RawHeaders) headers).forEachField((name, value) -> {
                if (!connectionSpecific(name)) {
                    out.add(name, value);
                }
            });
            return;
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> field = it.next();
            AsciiString name = AsciiString.of(field.getKey()).toLowerCase();
            if (!connectionSpecific(name)) {
                out.add(name, field.getValue());
            }
        }
    }

    /** Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade and TE (lower-case name). */
    static boolean connectionSpecific(AsciiString name) {
        return HttpHeaderNames.CONNECTION.contentEquals(name) || HttpHeaderNames.TRANSFER_ENCODING.contentEquals(name)
                || KEEP_ALIVE.contentEquals(name) || PROXY_CONNECTION.contentEquals(name)
                || HttpHeaderNames.UPGRADE.contentEquals(name) || HttpHeaderNames.TE.contentEquals(name);
    }
}
