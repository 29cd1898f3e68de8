package io.fulcrum.balancer.edge;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;

/**
 * The checks a request must pass before anything of it is forwarded, beyond what the strict
 * decoder already rejects (bare CR/LF, whitespace before a colon, invalid field names or values,
 * Content-Length with Transfer-Encoding, differing Content-Lengths, a Transfer-Encoding whose last
 * coding is not chunked, Transfer-Encoding in HTTP/1.0). Stateless.
 */
public final class RequestValidator {
    private RequestValidator() {
    }

    /** Why a request is refused: the status and a short message. */
    public record Rejection(HttpResponseStatus status, String message) {
    }

    /**
     * Returns the rejection of a request, or {@code null} when it may be forwarded. A rejected
     * request always closes the connection: its framing is either broken or not worth trusting.
     * May rewrite an absolute-form target to origin form (RFC 9112 section 3.2.2).
     */
    public static Rejection validate(HttpRequest request, long maxBodyBytes) {
        if (request.decoderResult().isFailure()) {
            return decoderFailure(request.decoderResult().cause());
        }
        HttpVersion version = request.protocolVersion();
        if (version != HttpVersion.HTTP_1_1 && version != HttpVersion.HTTP_1_0) {
            return new Rejection(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, "HTTP version not supported");
        }
        HttpMethod method = request.method();
        if (method == HttpMethod.CONNECT) {
            return new Rejection(HttpResponseStatus.METHOD_NOT_ALLOWED, "CONNECT is not supported");
        }
        HttpHeaders headers = request.headers();
        String uri = request.uri();
        if (!isValidTarget(uri)) {
            return new Rejection(HttpResponseStatus.BAD_REQUEST, "invalid request target");
        }
        if (!uri.isEmpty() && uri.charAt(0) != '/') {
            Rejection r = toOriginForm(request, uri, method);
            if (r != null) {
                return r;
            }
        }
        List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
        if (hosts.size() > 1) {
            return new Rejection(HttpResponseStatus.BAD_REQUEST, "more than one Host header");
        }
        if (hosts.isEmpty() && version == HttpVersion.HTTP_1_1) {
            // RFC 9112 section 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host.
            return new Rejection(HttpResponseStatus.BAD_REQUEST, "missing Host header");
        }
        if (!hosts.isEmpty() && !isValidHost(hosts.get(0))) {
            return new Rejection(HttpResponseStatus.BAD_REQUEST, "invalid Host header");
        }
        long contentLength = HttpUtil.getContentLength(request, -1L);
        if (contentLength > maxBodyBytes) {
            return new Rejection(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request body too large");
        }
        String expect = headers.get(HttpHeaderNames.EXPECT);
        if (expect != null && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.trim())) {
            return new Rejection(HttpResponseStatus.EXPECTATION_FAILED, "unsupported expectation");
        }
        return null;
    }

    /**
     * A request-target is printable US-ASCII without a fragment (RFC 9112 section 3.2, RFC 3986):
     * no NUL or other control character, no space, no DEL, no {@code #}. Bytes past ASCII are
     * refused too: forwarded as they came they are not a URI, and re-encoded they would change.
     */
    static boolean isValidTarget(String uri) {
        for (int i = 0, n = uri.length(); i < n; i++) {
            char c = uri.charAt(i);
            if (c <= ' ' || c >= 0x7F || c == '#') {
                return false;
            }
        }
        return true;
    }

    static Rejection decoderFailure(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return new Rejection(HttpResponseStatus.REQUEST_URI_TOO_LONG, "request line too long");
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return new Rejection(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request headers too large");
        }
        if (cause instanceof TooLongFrameException) {
            return new Rejection(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request too large");
        }
        return new Rejection(HttpResponseStatus.BAD_REQUEST, "malformed request");
    }

    /**
     * An absolute-form target ({@code http://host/path}) is turned into origin form, and its
     * authority replaces the Host header. {@code *} is only allowed with OPTIONS.
     */
    private static Rejection toOriginForm(HttpRequest request, String uri, HttpMethod method) {
        if (uri.equals("*") && method == HttpMethod.OPTIONS) {
            return null;
        }
        int schemeEnd = uri.indexOf("://");
        String scheme = schemeEnd > 0 ? uri.substring(0, schemeEnd) : "";
        if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            return new Rejection(HttpResponseStatus.BAD_REQUEST, "invalid request target");
        }
        int authorityStart = schemeEnd + 3;
        int pathStart = authorityStart;
        while (pathStart < uri.length() && "/?#".indexOf(uri.charAt(pathStart)) < 0) {
            pathStart++;
        }
        String authority = uri.substring(authorityStart, pathStart);
        if (authority.isEmpty() || authority.indexOf('@') >= 0 || !isValidHost(authority)) {
            return new Rejection(HttpResponseStatus.BAD_REQUEST, "invalid request target");
        }
        String rest = uri.substring(pathStart);
        request.setUri(rest.isEmpty() || rest.charAt(0) != '/' ? "/" + rest : rest);
        request.headers().set(HttpHeaderNames.HOST, authority);
        return null;
    }

    /** {@code uri-host [ ":" port ]} with a reg-name, IPv4 or bracketed IPv6 host (RFC 3986). */
    static boolean isValidHost(String host) {
        int n = host.length();
        if (n == 0 || n > 255) {
            return n == 0;
        }
        int i = 0;
        if (host.charAt(0) == '[') {
            int close = host.indexOf(']');
            if (close < 0) {
                return false;
            }
            for (int j = 1; j < close; j++) {
                char c = host.charAt(j);
                if (!(Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
                    return false;
                }
            }
            i = close + 1;
        } else {
            while (i < n && host.charAt(i) != ':') {
                char c = host.charAt(i);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '-' || c == '.' || c == '_' || c == '~' || c == '%';
                if (!ok) {
                    return false;
                }
                i++;
            }
            if (i == 0) {
                return false;
            }
        }
        if (i == n) {
            return true;
        }
        if (host.charAt(i) != ':') {
            return false;
        }
        for (int j = i + 1; j < n; j++) {
            char c = host.charAt(j);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return n - i - 1 <= 5;
    }
}
