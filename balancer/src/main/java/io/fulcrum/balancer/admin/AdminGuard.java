package io.fulcrum.balancer.admin;

import io.fulcrum.balancer.config.AdminTokenConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * Decides whether a state-changing admin request (drain, enable, reload) may run. In order:
 * <ol>
 *   <li>Cross-site browser requests are refused (403): a {@code Sec-Fetch-Site} other than
 *       {@code same-origin} or {@code none}, or an {@code Origin} whose host and port differ from the
 *       request's {@code Host}. A page open in an operator's browser cannot drain a backend.</li>
 *   <li>The body must be declared JSON (415 otherwise): {@code Content-Type: application/json}
 *       cannot be sent cross-site without a CORS preflight, which this server never grants.</li>
 *   <li>With {@code admin.token} (or {@code admin.token-file}) set, {@code Authorization: Bearer
 *       <token>} is required (401 with {@code WWW-Authenticate} otherwise); without one, such
 *       requests are refused (403) unless the admin port is bound to a loopback address.</li>
 * </ol>
 * Reads ({@code GET}) are not guarded.
 *
 * <p>Stateless and thread-safe.
 */
final class AdminGuard {
    /** Why a request was refused. */
    record Refusal(HttpResponseStatus status, String message) {
    }

    private AdminGuard() {
    }

    /** {@code null} when the request may run, else the refusal. */
    static Refusal check(HttpHeaders headers, AdminTokenConfig token, boolean loopback) {
        String site = headers.get("Sec-Fetch-Site");
        if (site != null && !site.equalsIgnoreCase("same-origin") && !site.equalsIgnoreCase("none")) {
            return new Refusal(HttpResponseStatus.FORBIDDEN, "cross-site request refused (Sec-Fetch-Site: " + site + ")");
        }
        String origin = headers.get(HttpHeaderNames.ORIGIN);
        if (origin != null && !sameOrigin(origin, headers.get(HttpHeaderNames.HOST))) {
            return new Refusal(HttpResponseStatus.FORBIDDEN, "cross-site request refused (Origin: " + origin + ")");
        }
        String type = headers.get(HttpHeaderNames.CONTENT_TYPE);
        String media = type == null ? "" : type.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!media.equals("application/json")) {
            return new Refusal(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE,
                    "Content-Type must be application/json (got: " + (type == null ? "none" : type) + ")");
        }
        if (token.present()) {
            String auth = headers.get(HttpHeaderNames.AUTHORIZATION);
            if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)
                    || !MessageDigest.isEqual(auth.substring(7).strip().getBytes(StandardCharsets.UTF_8),
                            token.token().getBytes(StandardCharsets.UTF_8))) {
                return new Refusal(HttpResponseStatus.UNAUTHORIZED,
                        auth == null ? "bearer token required" : "wrong bearer token");
            }
            return null;
        }
        if (!loopback) {
            return new Refusal(HttpResponseStatus.FORBIDDEN, "state-changing admin requests need admin.token or "
                    + "admin.token-file when the admin port is not on a loopback address");
        }
        return null;
    }

    /** Whether the origin's host and port are the request's {@code Host} (default ports filled in). */
    static boolean sameOrigin(String origin, String host) {
        if (host == null || origin.equals("null")) {
            return false;
        }
        try {
            URI o = new URI(origin);
            if (o.getHost() == null || !("http".equals(o.getScheme()) || "https".equals(o.getScheme()))) {
                return false;
            }
            int port = o.getPort() != -1 ? o.getPort() : "https".equals(o.getScheme()) ? 443 : 80;
            URI h = new URI("http://" + host);
            if (h.getHost() == null) {
                return false;
            }
            int hostPort = h.getPort() != -1 ? h.getPort() : 80;
            return o.getHost().equalsIgnoreCase(h.getHost()) && port == hostPort;
        } catch (URISyntaxException e) {
            return false;
        }
    }
}
