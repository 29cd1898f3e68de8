package io.fulcrum.node.http;

import io.netty.handler.codec.http.HttpMethod;
import java.util.Set;

/**
 * Maps a method and a path to a {@link ApiRoute}. A known path with another method is a 405 with the
 * methods the path does allow (RFC 9110 section 15.5.6); an unknown path is a 404. HEAD is allowed
 * wherever GET is and matches the GET route (RFC 9110 section 9.3.2); the handler drops the body.
 *
 * <p>Stateless and thread-safe; no I/O.
 */
public final class ApiRouter {
    private static final String POSTS_PREFIX = "/posts/";

    private final Set<String> assets;

    /** Creates a router serving the named static assets (for example {@code app.js}) at the root. */
    public ApiRouter(Set<String> assets) {
        this.assets = Set.copyOf(assets);
    }

    /** What a request matched. */
    public sealed interface Match permits Found, NotFound, MethodNotAllowed {
    }

    /**
     * A route matched.
     *
     * @param postId the {@code {id}} of a {@code /posts/{id}} route, else 0
     * @param asset the asset name of an {@link ApiRoute#ASSET} route, else null
     */
    public record Found(ApiRoute route, long postId, String asset) implements Match {
    }

    /** No route has this path. */
    public record NotFound() implements Match {
    }

    /** The path exists but not with this method; {@code allow} is the value of the Allow header. */
    public record MethodNotAllowed(String allow) implements Match {
    }

    /** Matches {@code path} (without the query string). */
    public Match match(HttpMethod requested, String path) {
        HttpMethod method = HttpMethod.HEAD.equals(requested) ? HttpMethod.GET : requested;
        switch (path) {
            case "/":
                return only(method, HttpMethod.GET, new Found(ApiRoute.PAGE, 0, null));
            case "/posts":
                return only(method, HttpMethod.POST, new Found(ApiRoute.CREATE_POST, 0, null));
            case "/timeline":
                return only(method, HttpMethod.GET, new Found(ApiRoute.TIMELINE, 0, null));
            case "/events":
                return only(method, HttpMethod.GET, new Found(ApiRoute.EVENTS, 0, null));
            case "/health":
                return only(method, HttpMethod.GET, new Found(ApiRoute.HEALTH, 0, null));
            default:
                break;
        }
        if (path.startsWith(POSTS_PREFIX)) {
            long id = parseId(path.substring(POSTS_PREFIX.length()));
            if (id <= 0) {
                return new NotFound();
            }
            if (HttpMethod.GET.equals(method)) {
                return new Found(ApiRoute.GET_POST, id, null);
            }
            if (HttpMethod.PUT.equals(method)) {
                return new Found(ApiRoute.UPDATE_POST, id, null);
            }
            if (HttpMethod.DELETE.equals(method)) {
                return new Found(ApiRoute.DELETE_POST, id, null);
            }
            return new MethodNotAllowed("GET, HEAD, PUT, DELETE");
        }
        String name = path.substring(1);
        if (assets.contains(name)) {
            return only(method, HttpMethod.GET, new Found(ApiRoute.ASSET, 0, name));
        }
        return new NotFound();
    }

    private static Match only(HttpMethod actual, HttpMethod allowed, Found found) {
        if (allowed.equals(actual)) {
            return found;
        }
        return new MethodNotAllowed(HttpMethod.GET.equals(allowed) ? "GET, HEAD" : allowed.name());
    }

    /** Parses a positive decimal id of at most 18 digits, or returns -1. */
    private static long parseId(String text) {
        if (text.isEmpty() || text.length() > 18) {
            return -1;
        }
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (ch < '0' || ch > '9') {
                return -1;
            }
        }
        return Long.parseLong(text);
    }
}
