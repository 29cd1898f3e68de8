package io.fulcrum.node.http;

import io.fulcrum.node.post.InvalidInputException;
import io.fulcrum.node.store.ClientPosition;
import io.fulcrum.node.store.Post;
import io.fulcrum.node.store.WalPosition;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.util.HashMap;
import java.util.Map;

/**
 * The consistency token on the wire: a PostgreSQL WAL position such as {@code 0/3000060}, read from the
 * {@value #HEADER} request header and from the {@value #COOKIE} cookie (the later of the two counts),
 * and handed back after each API call in the same header and, when it moved, in the cookie, so that a
 * browser carries it without the page doing anything.
 *
 * <p>A malformed header is the client's error (400); a malformed cookie is ignored, so that a bad
 * cookie can never lock a browser out. Nodes without a replica give no token and ignore the ones they
 * get: they read from the primary, which has everything.
 *
 * <p>Stateless and thread-safe.
 */
final class ConsistencyTokens {
    /** Request and response header carrying the token. */
    static final String HEADER = "X-Post-Version";
    /** Cookie carrying the token for browsers. */
    static final String COOKIE = "fulcrum-post-version";
    /** How long a browser keeps the cookie: long enough to outlive any replica lag by far. */
    private static final int COOKIE_MAX_AGE_SECONDS = 86_400;

    private ConsistencyTokens() {
    }

    /** What a request carried: the position it requires and the cookie's value (0 when none). */
    record Token(ClientPosition position, long cookie) {
    }

    /** Reads the request's token; throws {@link InvalidInputException} for a malformed header. */
    static Token of(HttpHeaders headers) {
        long fromHeader = 0;
        String header = headers.get(HEADER);
        if (header != null) {
            try {
                fromHeader = WalPosition.parse(header);
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(HEADER, "must be a WAL position like 0/16B3748, as returned");
            }
        }
        long fromCookie = 0;
        for (String value : headers.getAll(HttpHeaderNames.COOKIE)) {
            for (Cookie c : ServerCookieDecoder.LAX.decode(value)) {
                if (COOKIE.equals(c.name())) {
                    try {
                        fromCookie = WalPosition.parse(c.value());
                    } catch (IllegalArgumentException ignored) {
                        // A stale or mangled cookie is replaced by the next answer.
                    }
                }
            }
        }
        long required = WalPosition.after(fromCookie, fromHeader) ? fromCookie : fromHeader;
        return new Token(new ClientPosition(required), fromCookie);
    }

    /** Adds the token the call produced, if any, to {@code response}. */
    static ApiResponse stamp(ApiResponse response, Token token) {
        long seen = token.position().seen();
        if (seen == 0) {
            return response;
        }
        String text = WalPosition.format(seen);
        Map<String, String> headers = new HashMap<>(response.headers());
        headers.put(HEADER, text);
        if (seen != token.cookie()) {
            headers.put(HttpHeaderNames.SET_COOKIE.toString(), COOKIE + "=" + text + "; Path=/; Max-Age="
                    + COOKIE_MAX_AGE_SECONDS + "; HttpOnly; SameSite=Lax");
        }
        return new ApiResponse(response.status(), response.contentType(), response.body(), headers);
    }
}
