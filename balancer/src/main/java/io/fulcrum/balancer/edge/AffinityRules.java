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
        AffinityConfig.Hash hash = config.hash();
        String key;
        int end;
        switch (hash.on()) {
            case HEADER -> {
                key = request.headers().get(hash.name());
                end = key == null ? 0 : key.length();
            }
            case COOKIE -> {
                key = cookie(request.headers(), hash.name());
                end = key == null ? 0 : key.length();
            }
            case PATH -> {
                key = request.uri();
                end = pathEnd(key);
            }
            case CLIENT_ADDRESS -> {
                key = clientAddress;
                end = key == null ? 0 : key.length();
            }
            default -> throw new AssertionError(hash.on());
        }
        if (key == null || end == 0) {
            return clientRegion == null ? RequestInfo.DEFAULT : new RequestInfo(clientRegion, List.of());
        }
        return new RequestInfo(clientRegion, List.of(), null, Affinity.hash(key, 0, end), true);
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
