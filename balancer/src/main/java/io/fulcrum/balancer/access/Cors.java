package io.fulcrum.balancer.access;

import io.fulcrum.balancer.config.CorsConfig;
import io.fulcrum.balancer.edge.ErrorResponses;
import io.fulcrum.balancer.edge.HeaderRules;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A route's CORS, by the Fetch standard's CORS protocol (section 3.2). The balancer answers a
 * preflight ({@code OPTIONS} with {@code Origin} and {@code Access-Control-Request-Method}) itself:
 * 204 with what the origin may do when it, its method and its headers are allowed, else 403 with
 * no CORS header (the browser then refuses the request). To any other request carrying an allowed
 * {@code Origin} the response gets {@code Access-Control-Allow-Origin} (and the credentials and
 * exposed headers); for an origin not allowed nothing of CORS is added, and a backend's own
 * {@code Access-Control-*} headers are removed either way, since the route's rules are the ones in
 * force. The response's {@code Vary} names {@code Origin} whenever the answer depends on it (every
 * origin not allowed by {@code *}), so that a cache keeps the answers apart.
 *
 * <p>GET, HEAD and POST are CORS-safelisted methods: always allowed. Immutable and thread-safe.
 */
final class Cors {
    static final String PREFLIGHT_REFUSED = "CORS preflight refused";
    private static final Set<String> SAFELISTED_METHODS = Set.of("GET", "HEAD", "POST");
    private static final List<AsciiString> RESPONSE_HEADERS = List.of(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN,
            HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS,
            HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
            HttpHeaderNames.ACCESS_CONTROL_MAX_AGE);

    private final CorsConfig config;
    private final Set<String> exact;
    private final Pattern[] patterns;
    private final boolean anyOrigin;
    private final Set<String> methods;
    private final String methodsText;
    private final boolean anyHeader;
    /** Allowed request headers, lower case. */
    private final Set<String> headers;
    private final String exposeText;
    private final String maxAge;

    Cors(CorsConfig config) {
        this.config = config;
        this.anyOrigin = config.anyOrigin();
        Set<String> ex = new TreeSet<>();
        List<Pattern> ps = new ArrayList<>();
        for (String o : config.allowOrigins()) {
            if (o.indexOf('*') < 0) {
                ex.add(o);
            } else if (!o.equals("*")) {
                // * stands for any run of characters but /, so https://*.example.com is one origin's host.
                ps.add(Pattern.compile(Pattern.quote(o).replace("*", "\\E[^/]+\\Q")));
            }
        }
        this.exact = Set.copyOf(ex);
        this.patterns = ps.toArray(Pattern[]::new);
        this.methods = Set.copyOf(config.allowMethods());
        TreeSet<String> m = new TreeSet<>(SAFELISTED_METHODS);
        m.addAll(config.allowMethods());
        this.methodsText = String.join(", ", m);
        this.anyHeader = config.allowHeaders().contains("*");
        this.headers = Set.copyOf(config.allowHeaders().stream().map(h -> h.toLowerCase(Locale.ROOT)).toList());
        this.exposeText = config.exposeHeaders().isEmpty() ? null : String.join(", ", config.exposeHeaders());
        this.maxAge = config.maxAge() == null ? null : Long.toString(config.maxAge().toSeconds());
    }

    /** Whether {@code request} is a CORS preflight. */
    static boolean isPreflight(HttpRequest request) {
        return HttpMethod.OPTIONS.equals(request.method()) && request.headers().contains(HttpHeaderNames.ORIGIN)
                && request.headers().contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD);
    }

    /** Whether {@code origin} may read this route's responses. */
    boolean allows(String origin) {
        if (origin == null) {
            return false;
        }
        if (anyOrigin || exact.contains(origin)) {
            return true;
        }
        for (Pattern p : patterns) {
            if (p.matcher(origin).matches()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The answer to a preflight: 204 with the allowed origin, methods and headers, or 403 when the
     * origin, the method or one of the headers is not allowed.
     */
    Verdict preflight(HttpRequest request, ByteBufAllocator alloc, String requestId) {
        HttpHeaders in = request.headers();
        String origin = in.get(HttpHeaderNames.ORIGIN);
        String method = in.get(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD).strip();
        List<String> asked = new ArrayList<>();
        for (String line : in.getAll(HttpHeaderNames.ACCESS_CONTROL_REQUEST_HEADERS)) {
            for (String name : line.split(",")) {
                if (!name.isBlank()) {
                    asked.add(name.strip().toLowerCase(Locale.ROOT));
                }
            }
        }
        String why = !allows(origin) ? "origin not allowed"
                : !SAFELISTED_METHODS.contains(method) && !methods.contains(method) ? "method " + method + " not allowed"
                : anyHeader ? null : asked.stream().filter(h -> !headers.contains(h)).findFirst()
                        .map(h -> "header " + h + " not allowed").orElse(null);
        FullHttpResponse r;
        if (why != null) {
            r = ErrorResponses.json(alloc, HttpResponseStatus.FORBIDDEN, PREFLIGHT_REFUSED + ": " + why, requestId, false);
        } else {
            r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT, Unpooled.EMPTY_BUFFER);
            HttpHeaders out = r.headers();
            allowOrigin(out, origin);
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, methodsText);
            if (!asked.isEmpty()) {
                // The names asked for, each allowed: works with credentials too, where * would not.
                out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, String.join(", ", asked));
            }
            if (maxAge != null) {
                out.set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, maxAge);
            }
            out.set(HeaderRules.X_REQUEST_ID, requestId);
        }
        r.headers().add(HttpHeaderNames.VARY, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
        return new Verdict(r, why == null ? null : PREFLIGHT_REFUSED + ": " + why);
    }

    /**
     * Sets the CORS headers of a response (a backend's or the balancer's own) to a request from
     * {@code origin} (its {@code Origin} header, or {@code null}), in place of any it had.
     */
    void decorate(HttpHeaders response, String origin) {
        for (AsciiString name : RESPONSE_HEADERS) {
            response.remove(name);
        }
        if (!anyOrigin) {
            response.add(HttpHeaderNames.VARY, "Origin");
        }
        if (allows(origin)) {
            allowOrigin(response, origin);
            if (exposeText != null) {
                response.set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, exposeText);
            }
        }
    }

    private void allowOrigin(HttpHeaders out, String origin) {
        out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, anyOrigin ? "*" : origin);
        if (config.allowCredentials()) {
            out.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
        }
    }
}
