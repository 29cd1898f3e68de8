package io.fulcrum.balancer.edge;

import io.fulcrum.balancer.balancing.Affinity;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.RequestInfo;
import io.fulcrum.balancer.config.AffinityConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.CookieHeaderNames;
import io.netty.handler.codec.http.cookie.DefaultCookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.netty.handler.codec.http.cookie.ServerCookieEncoder;
import java.util.List;

/**
 * The request and response side of a pool's session {@link Affinity}: what a request carries for
 * routing (its affinity cookie, or the hash of its key) and the cookie that pins a client to the
 * backend that served it. Stateless.
 */
public final class AffinityRules {
    /** What {@link #keyHash} returns for a request without the key. */
    public static final long NO_KEY = 0;

    private AffinityRules() {
    }

    /**
     * The routing view of {@code request}: the client's region and, when the pool has affinity,
     * its cookie or hash key. A request without the key gets none and falls to the pool's policy.
     *
     * @param clientAddress the client's address as text, hashed for {@code client-address}
     */
    public static RequestInfo routing(Affinity affinity, HttpRequest request, String clientAddress, String clientRegion) {
        if (affinity == null) {
            return clientRegion == null ? RequestInfo.DEFAULT : new RequestInfo(clientRegion, List.of());
        }
        AffinityConfig config = affinity.config();
        if (config.cookie() != null) {
            return new RequestInfo(clientRegion, List.of(), cookie(request.headers(), config.cookie().name()), 0, false);
        }
        long hash = keyHash(config.hash(), request, clientAddress);
        if (hash == NO_KEY) {
            return clientRegion == null ? RequestInfo.DEFAULT : new RequestInfo(clientRegion, List.of());
        }
        return new RequestInfo(clientRegion, List.of(), null, hash, true);
    }

    /**
     * The hash ({@link Affinity#hash}) of the request's key as {@code key} names it: a header, a
     * cookie, the path or the client's address; {@link #NO_KEY} when the request has none.
     * Allocation-free but for a cookie, which is parsed.
     */
    public static long keyHash(AffinityConfig.Hash key, HttpRequest request, String clientAddress) {
        String text;
        int end;
        switch (key.on()) {
            case HEADER -> {
                text = request.headers().get(key.name());
                end = text == null ? 0 : text.length();
            }
            case COOKIE -> {
                text = cookie(request.headers(), key.name());
                end = text == null ? 0 : text.length();
            }
            case PATH -> {
                text = request.uri();
                end = pathEnd(text);
            }
            case CLIENT_ADDRESS -> {
                text = clientAddress;
                end = text == null ? 0 : text.length();
            }
            default -> throw new AssertionError(key.on());
        }
        if (text == null || end == 0) {
            return NO_KEY;
        }
        long hash = Affinity.hash(text, 0, end);
        // One key in 2^64 hashes to the value that says "none"; it joins its neighbour.
        return hash == NO_KEY ? NO_KEY + 1 : hash;
    }

    /** Where the path of a request target ends: at its query or fragment, if any. */
    static int pathEnd(String uri) {
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '?' || c == '#') {
                return i;
            }
        }
        return uri.length();
    }

    /** The value of cookie {@code name} in the request's Cookie headers, or {@code null}. */
    static String cookie(HttpHeaders headers, String name) {
        if (!headers.contains(HttpHeaderNames.COOKIE)) {
            return null;
        }
        for (String header : headers.getAll(HttpHeaderNames.COOKIE)) {
            for (Cookie c : ServerCookieDecoder.LAX.decodeAll(header)) {
                if (c.name().equals(name)) {
                    return c.value();
                }
            }
        }
        return null;
    }

    /**
     * Pins the client to {@code served} unless the request's cookie already does: a
     * {@code Set-Cookie} that is HttpOnly, Path=/, SameSite=Lax, Secure when the client came over
     * TLS, and with Max-Age when configured. Does nothing for a pool without cookie affinity.
     */
    public static void pin(Affinity affinity, RequestInfo request, HttpResponse response, Backend served, boolean secure) {
        if (affinity == null || affinity.config().cookie() == null) {
            return;
        }
        String value = affinity.cookieValue(served);
        if (value.equals(request.affinityCookie())) {
            return;
        }
        AffinityConfig.Cookie config = affinity.config().cookie();
        DefaultCookie cookie = new DefaultCookie(config.name(), value);
        cookie.setHttpOnly(true);
        cookie.setPath("/");
        cookie.setSameSite(CookieHeaderNames.SameSite.Lax);
        cookie.setSecure(secure);
        if (config.maxAge() != null) {
            cookie.setMaxAge(config.maxAge().toSeconds());
        }
        response.headers().add(HttpHeaderNames.SET_COOKIE, ServerCookieEncoder.STRICT.encode(cookie));
    }
}
