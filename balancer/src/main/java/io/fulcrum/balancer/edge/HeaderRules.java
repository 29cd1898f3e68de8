package io.fulcrum.balancer.edge;

import io.fulcrum.balancer.config.HeadersConfig;
import io.fulcrum.balancer.http1.codec.RawHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpScheme;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * The header rewriting of a forwarding proxy (RFC 9110 section 7.6): hop-by-hop fields are removed
 * in both directions, the forwarding headers are added to requests and the request id is echoed on
 * responses. Messages are rewritten in place. Stateless and thread-safe.
 */
public final class HeaderRules {
    public static final AsciiString X_REQUEST_ID = AsciiString.cached("X-Request-Id");
    public static final AsciiString X_FORWARDED_FOR = AsciiString.cached("X-Forwarded-For");
    public static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("X-Forwarded-Proto");
    public static final AsciiString X_FORWARDED_HOST = AsciiString.cached("X-Forwarded-Host");
    /** The port the client connected to; a trusted edge's is kept. */
    public static final AsciiString X_FORWARDED_PORT = AsciiString.cached("X-Forwarded-Port");
    /** RFC 7239; dropped from untrusted peers, and written by the balancer only when configured. */
    public static final AsciiString FORWARDED = AsciiString.cached("Forwarded");
    /** The client's address as the balancer found it; whatever the client sent is replaced. */
    public static final AsciiString X_REAL_IP = AsciiString.cached("X-Real-IP");
    private static final AsciiString VIA = AsciiString.cached("Via");
    private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final String VIA_11 = "1.1 fulcrum";
    private static final String VIA_10 = "1.0 fulcrum";

    /** Hop-by-hop fields of RFC 9110 section 7.6.1, plus the non-standard Proxy-Connection; lower case. */
    public static final List<AsciiString> HOP_BY_HOP = List.of(
            HttpHeaderNames.CONNECTION, KEEP_ALIVE, PROXY_CONNECTION, HttpHeaderNames.TE,
            HttpHeaderNames.TRAILER, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE);
    private static final CharSequence[] HOP_BY_HOP_NAMES = HOP_BY_HOP.toArray(new CharSequence[0]);
    /** Fields that Connection may not remove: they frame or address the message. */
    private static final CharSequence[] FRAMING = {HttpHeaderNames.HOST, HttpHeaderNames.CONTENT_LENGTH};

    private HeaderRules() {
    }

    /**
     * What the forwarding headers say of the connection a request came on.
     *
     * @param address the address the connection came from (a trusted PROXY header's source, else
     *     the peer)
     * @param client the client's address as found ({@link TrustedEdges})
     * @param tls whether the connection came in over TLS
     * @param port the port the client connected to, in decimal, or {@code null} when unknown
     * @param trusted whether {@code address} is a trusted edge: its {@code X-Forwarded-Proto},
     *     {@code -Host}, {@code -Port} and {@code Forwarded} are kept, anybody else's replaced or
     *     dropped
     * @param forwarded whether the balancer writes a {@code Forwarded} element of its own
     */
    public record Hop(String address, String client, boolean tls, String port, boolean trusted,
            HeadersConfig.Forwarded forwarded) {
    }

    /**
     * Rewrites a client request for the backend: always HTTP/1.1 with a persistent connection, the
     * same body framing as received, and the forwarding headers.
     *
     * @param clientAddress the client's IP address as text (never a header's claim)
     * @param requestId the request id, already taken from the request or generated
     */
    public static void prepareRequest(HttpRequest request, String clientAddress, String requestId) {
        prepareRequest(request, clientAddress, requestId, false);
    }

    /**
     * As {@link #prepareRequest(HttpRequest, String, String)}, for a request that came in over TLS
     * when {@code tls} is true ({@code X-Forwarded-Proto: https}).
     */
    public static void prepareRequest(HttpRequest request, String clientAddress, String requestId, boolean tls) {
        prepareRequest(request, clientAddress, clientAddress, requestId, tls);
    }

    /**
     * As {@link #prepareRequest(HttpRequest, String, String, boolean)} when trusted edges stand in
     * front: {@code X-Forwarded-For} gets the address the connection came from appended, as every
     * proxy appends its own peer, and {@code X-Real-IP} names the client that the trusted edges'
     * headers led to.
     *
     * @param hopAddress the address the connection came from (a trusted PROXY header's source, else the peer)
     * @param clientAddress the client's address as found ({@link TrustedEdges})
     */
    public static void prepareRequest(HttpRequest request, String hopAddress, String clientAddress, String requestId,
            boolean tls) {
        prepareRequest(request, new Hop(hopAddress, clientAddress, tls, null, false, HeadersConfig.Forwarded.DROP),
                requestId);
    }

    /**
     * Rewrites a client request for the backend: always HTTP/1.1 with a persistent connection, the
     * same body framing as received, and the forwarding headers. {@code X-Forwarded-For} gets the
     * address the connection came from appended, as every proxy appends its own peer, and
     * {@code X-Real-IP} names the client. {@code X-Forwarded-Proto}, {@code -Host} and
     * {@code -Port} are the balancer's own, except that a trusted edge's are kept: the edge saw
     * the client's connection. An untrusted peer's {@code Forwarded} is dropped or, with
     * {@code headers.forwarded: set}, replaced by the balancer's element; a trusted edge's is
     * kept, with the balancer's element appended when set (RFC 7239 section 4).
     */
    public static void prepareRequest(HttpRequest request, Hop hop, String requestId) {
        HttpHeaders headers = request.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(request);
        HttpVersion clientVersion = request.protocolVersion();
        String host = headers.get(HttpHeaderNames.HOST);
        removeHopByHop(headers);
        if (chunked) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        // Made of received values the parser checked and of the proxy's own text.
        setMade(headers, X_FORWARDED_FOR, appendToList(headers, X_FORWARDED_FOR, hop.address()));
        setMade(headers, X_REAL_IP, hop.client());
        boolean keep = hop.trusted();
        if (!keep || !headers.contains(X_FORWARDED_PROTO)) {
            setMade(headers, X_FORWARDED_PROTO, (hop.tls() ? HttpScheme.HTTPS : HttpScheme.HTTP).name());
        }
        if (!keep || !headers.contains(X_FORWARDED_HOST)) {
            setOrRemove(headers, X_FORWARDED_HOST, host);
        }
        if (!keep || !headers.contains(X_FORWARDED_PORT)) {
            setOrRemove(headers, X_FORWARDED_PORT, hop.port());
        }
        forwarded(headers, hop, host);
        appendVia(headers, clientVersion == HttpVersion.HTTP_1_0 ? VIA_10 : VIA_11);
        setMade(headers, X_REQUEST_ID, requestId);
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    /**
     * {@code Forwarded} (RFC 7239): an untrusted peer's would let a client name any address to a
     * backend that reads it, so it is removed, or replaced by the balancer's own element; a trusted
     * edge's is kept, and the balancer's element appended after it (section 4: each proxy adds
     * its element at the end).
     */
    private static void forwarded(HttpHeaders headers, Hop hop, String host) {
        if (hop.forwarded() == HeadersConfig.Forwarded.DROP) {
            if (!hop.trusted()) {
                headers.remove(FORWARDED);
            }
            return;
        }
        String element = forwardedElement(hop.address(), hop.tls(), host);
        setMade(headers, FORWARDED, hop.trusted() ? appendToList(headers, FORWARDED, element) : element);
    }

    /** Sets the balancer's value, or removes whatever came when it has none to give. */
    private static void setOrRemove(HttpHeaders headers, AsciiString name, String value) {
        if (value != null) {
            setMade(headers, name, value);
        } else {
            headers.remove(name);
        }
    }

    /**
     * The balancer's {@code Forwarded} element: {@code for} the address the connection came from
     * (an IPv6 address in brackets and quotes, section 6), {@code proto}, and {@code host} when the
     * request had one, each value a token or else a quoted-string (section 4).
     */
    static String forwardedElement(String address, boolean tls, String host) {
        StringBuilder out = new StringBuilder("for=");
        if (address.indexOf(':') >= 0 && !address.startsWith("[")) {
            quoted(out, "[" + address + "]");
        } else {
            value(out, address);
        }
        out.append(";proto=").append(tls ? "https" : "http");
        if (host != null && !host.isEmpty()) {
            out.append(";host=");
            value(out, host);
        }
        return out.toString();
    }

    /** A token as is, anything else as a quoted-string (RFC 9110 section 5.6.2 and 5.6.4). */
    private static void value(StringBuilder out, String text) {
        for (int i = 0; i < text.length(); i++) {
            if (!isTokenChar(text.charAt(i))) {
                quoted(out, text);
                return;
            }
        }
        out.append(text.isEmpty() ? "\"\"" : text);
    }

    private static void quoted(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\');
            }
            out.append(c);
        }
        out.append('"');
    }

    /** RFC 9110 section 5.6.2 tchar. */
    private static boolean isTokenChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    /**
     * Rewrites a backend response for the client.
     *
     * @param clientVersion the version of the client's request: HTTP/1.0 clients never get chunked
     *     framing, they get a close-delimited body instead
     * @param bodyless the response has no body whatever its headers say (HEAD, 1xx, 204, 304)
     * @param backendHeader header naming the backend, or {@code null} when off
     * @return whether the body sent to the client is close-delimited (an HTTP/1.0 client and no
     *     Content-Length), so the client connection must close after it
     */
    public static boolean prepareResponse(HttpResponse response, HttpVersion clientVersion, boolean bodyless,
            String requestId, CharSequence backendHeader, String backendId) {
        HttpHeaders headers = response.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(response);
        boolean lengthKnown = chunked || headers.contains(HttpHeaderNames.CONTENT_LENGTH);
        removeHopByHop(headers);
        if (clientVersion != HttpVersion.HTTP_1_0 && !bodyless && (chunked || !lengthKnown)) {
            // A close-delimited body from the backend becomes chunked so the client connection can
            // stay open (RFC 9112 section 6.3).
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        } else if (bodyless && chunked) {
            // A HEAD response keeps announcing the framing the GET would have had.
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (clientVersion == HttpVersion.HTTP_1_0) {
            // An HTTP/1.0 client keeps the connection only when told so (RFC 9112 section 9.3);
            // HttpServerKeepAliveHandler turns this into "close" when the client did not ask.
            headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        appendVia(headers, response.protocolVersion() == HttpVersion.HTTP_1_0 ? VIA_10 : VIA_11);
        if (!headers.contains(X_REQUEST_ID)) {
            setMade(headers, X_REQUEST_ID, requestId);
        }
        if (backendHeader != null) {
            headers.set(backendHeader, backendId);
        }
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
        return clientVersion == HttpVersion.HTTP_1_0 && !bodyless && (chunked || !lengthKnown);
    }

    /**
     * Sets a forwarding field whose value holds only received field values and the proxy's own
     * text: the received head's fields skip the per-character check ({@link RawHeaders#setChecked}),
     * other header maps check as they always do.
     */
    private static void setMade(HttpHeaders headers, AsciiString name, CharSequence value) {
        if (headers instanceof RawHeaders raw) {
            raw.setChecked(name, value);
        } else {
            headers.set(name, value);
        }
    }

    /** Removes the hop-by-hop fields and every field named in Connection. */
    static void removeHopByHop(HttpHeaders headers) {
        if (headers instanceof RawHeaders) {
            ((RawHeaders) headers).removeHopByHop(HttpHeaderNames.CONNECTION, HOP_BY_HOP_NAMES, FRAMING);
            return;
        }
        if (headers.contains(HttpHeaderNames.CONNECTION)) {
            removeConnectionOptions(headers);
        }
        for (int i = 0; i < HOP_BY_HOP.size(); i++) {
            headers.remove(HOP_BY_HOP.get(i));
        }
    }

    /** Removes every field named in Connection (RFC 9110 section 7.6.1). */
    private static void removeConnectionOptions(HttpHeaders headers) {
        List<String> connection = headers.getAll(HttpHeaderNames.CONNECTION);
        for (int i = 0; i < connection.size(); i++) {
            String value = connection.get(i);
            int start = 0;
            while (start < value.length()) {
                int comma = value.indexOf(',', start);
                int end = comma < 0 ? value.length() : comma;
                String name = value.substring(start, end).trim();
                if (!name.isEmpty() && !isFraming(name)) {
                    headers.remove(name);
                }
                start = end + 1;
            }
        }
    }

    /** Fields that Connection may not remove: they frame or address the message. */
    private static boolean isFraming(String name) {
        return HttpHeaderNames.HOST.contentEqualsIgnoreCase(name)
                || HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name);
    }

    private static void appendVia(HttpHeaders headers, String hop) {
        setMade(headers, VIA, appendToList(headers, VIA, hop));
    }

    /**
     * The field's values as one comma-separated list with {@code last} appended. Several lines of
     * a list field are one list (RFC 9110 section 5.3), so none of them is dropped.
     */
    private static String appendToList(HttpHeaders headers, CharSequence name, String last) {
        String first = headers.get(name);
        if (first == null || first.isEmpty()) {
            return last;
        }
        List<String> all = headers.getAll(name);
        if (all.size() == 1) {
            return first + ", " + last;
        }
        StringBuilder joined = new StringBuilder();
        for (String value : all) {
            if (!value.isEmpty()) {
                joined.append(value).append(", ");
            }
        }
        return joined.append(last).toString();
    }
}
