package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.access.RouteAccess;
import io.fulcrum.balancer.balancing.Affinity;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.RequestInfo;
import io.fulcrum.balancer.config.CompressionConfig;
import io.fulcrum.balancer.edge.AffinityRules;
import io.fulcrum.balancer.edge.HeaderRules;
import io.fulcrum.balancer.route.Route;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * A backend's response head made ready for the client ({@link HeaderRules#prepareResponse}, the
 * route's edits, keep-alive, the decision header, affinity pinning), for a final head and for a
 * 101 alike, and what the head says of how the response ends: close-delimited, or an event stream
 * with no end of its own. What it needs of the request is read when the exchange is made, before
 * the rewrite for the backend makes it HTTP/1.1 and drops its hop-by-hop headers.
 *
 * <p>Not thread safe: confined to the client connection's event loop.
 */
final class ClientResponse {
    private static final String EVENT_STREAM = "text/event-stream";

    private final HttpRequest request;
    private final String requestId;
    private final HttpVersion clientVersion;
    private final boolean head;
    /** The client asked to keep the connection (read before the hop-by-hop headers go). */
    private final boolean clientKeepAlive;
    private final ProxySettings settings;
    /** The route that chose the pool (its response header edits), or {@code null} for none. */
    private final Route<BackendPool> route;
    /** The pool's session affinity when the request came, or {@code null}. */
    private final Affinity affinity;
    /** The response sent to the client ends at the connection's close (HTTP/1.0, no length). */
    private boolean closeDelimited;
    /** The route's access rules when it has CORS rules, whose headers the response gets, else {@code null}. */
    private final RouteAccess access;
    /** The request's {@code Origin}, when {@link #access} is set. */
    private final String origin;
    /** The response is a Server-Sent Events stream ({@code text/event-stream}), which has no end of its own. */
    private boolean eventStream;
    /** The route's compression, or {@code null} when its responses go as they came. */
    private final CompressionConfig compressionConfig;
    /** The client's {@code Accept-Encoding} when the route compresses, else {@code null}. */
    private final String acceptEncoding;
    /** The compression of the body on its way, or {@code null} when it goes as it came. */
    private ResponseCompression compression;

    /** @param access the route's access rules (its CORS headers), or {@code null} */
    ClientResponse(HttpRequest request, String requestId, ProxySettings settings, Route<BackendPool> route,
            Affinity affinity, RouteAccess access) {
        this.request = request;
        this.requestId = requestId;
        this.clientVersion = request.protocolVersion();
        this.head = HttpMethod.HEAD.equals(request.method());
        this.clientKeepAlive = HttpUtil.isKeepAlive(request);
        this.settings = settings;
        this.route = route;
        this.affinity = affinity;
        this.compressionConfig = route == null ? null : route.compression();
        this.acceptEncoding = compressionConfig == null ? null : request.headers().get(HttpHeaderNames.ACCEPT_ENCODING);
        this.access = access != null && access.cors() ? access : null;
        this.origin = this.access == null ? null : RouteAccess.origin(request);
    }

    /** Response bodies past this are cut ({@code max-response-bytes}); 0 for no limit. */
    long maxResponseBytes() {
        return settings.maxResponseBytes();
    }

    /**
     * Whether {@code response}'s head announces a body longer than {@code max-response-bytes}
     * (none comes for HEAD, 204 and 304, whatever their length says).
     */
    boolean tooLarge(HttpResponse response) {
        long max = settings.maxResponseBytes();
        int code = response.status().code();
        return max > 0 && !head && code != 204 && code != 304 && HttpUtil.getContentLength(response, -1L) > max;
    }

    /**
     * Whether the connection must close after this exchange (RFC 9112 section 9.6): the client
     * said so, or the response had to be close-delimited.
     */
    boolean closesConnection() {
        return !clientKeepAlive || closeDelimited;
    }

    /** Whether the response ends at the connection's close (an HTTP/1.0 client knows the end by it). */
    boolean closeDelimited() {
        return closeDelimited;
    }

    /** Whether the response is an event stream, which has no end of its own. */
    boolean eventStream() {
        return eventStream;
    }

    /** Whether the client waits for {@code interim}: a 100 (Continue) it asked for, over HTTP/1.1. */
    boolean awaits(HttpResponse interim) {
        return interim.status().code() == 100 && HttpUtil.is100ContinueExpected(request)
                && clientVersion == HttpVersion.HTTP_1_1;
    }

    /**
     * Makes {@code backend}'s final head ready for the client.
     *
     * @param closing the balancer is draining, so the connection closes after this response
     * @param decision the full decision trace for the client, or {@code null}
     * @param routing the selection's view of the request, for affinity pinning
     */
    void prepare(HttpResponse response, Backend backend, boolean closing, String decision, RequestInfo routing) {
        int code = response.status().code();
        boolean noBody = head || code == 204 || code == 304;
        if (compressionConfig != null) {
            // First: a compressed body loses its length, and the framing below follows from that.
            compression = ResponseCompression.begin(compressionConfig, acceptEncoding, response, head);
        }
        closeDelimited = HeaderRules.prepareResponse(response, clientVersion, noBody, requestId,
                settings.backendHeader(), backend.id());
        if (route != null) {
            route.editResponse(response.headers());
        }
        if (access != null) {
            access.decorate(response.headers(), origin);
        }
        if (closing || closesConnection()) {
            // The connection closes after this response; say so (RFC 9112 section 9.6).
            HttpUtil.setKeepAlive(response, false);
        }
        if (decision != null) {
            response.headers().set(Exchange.DECISION_HEADER, decision);
        }
        if (affinity != null) {
            // The header was set from the client connection (HeaderRules): TLS makes the cookie Secure.
            AffinityRules.pin(affinity, routing, response, backend,
                    request.headers().contains(HeaderRules.X_FORWARDED_PROTO, "https", true));
        }
        eventStream = isEventStream(response);
    }

    /** The compression of the body, or {@code null} when it goes as it came. */
    ResponseCompression compression() {
        return compression;
    }

    /** Frees what a compression still holds; the exchange is over. */
    void release() {
        if (compression != null) {
            compression.release();
            compression = null;
        }
    }

    /** Makes {@code backend}'s 101 ready for the client, naming the protocol it switches to. */
    void prepareSwitch(HttpResponse response, Backend backend) {
        String protocol = response.headers().get(HttpHeaderNames.UPGRADE);
        HeaderRules.prepareResponse(response, clientVersion, true, requestId, settings.backendHeader(), backend.id());
        if (route != null) {
            route.editResponse(response.headers());
        }
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderNames.UPGRADE);
        if (protocol != null) {
            response.headers().set(HttpHeaderNames.UPGRADE, protocol);
        }
    }

    /** The media type is {@code text/event-stream} (HTML Living Standard, "Server-sent events"). */
    static boolean isEventStream(HttpResponse response) {
        // Read in place: every response passes here, and nothing is copied for a type that is not one.
        String type = response.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null) {
            return false;
        }
        int start = 0;
        while (start < type.length() && (type.charAt(start) == ' ' || type.charAt(start) == '\t')) {
            start++;
        }
        int end = start + EVENT_STREAM.length();
        if (!type.regionMatches(true, start, EVENT_STREAM, 0, EVENT_STREAM.length())) {
            return false;
        }
        while (end < type.length() && (type.charAt(end) == ' ' || type.charAt(end) == '\t')) {
            end++;
        }
        return end == type.length() || type.charAt(end) == ';';
    }
}
