package io.fulcrum.balancer.access;

import io.fulcrum.balancer.config.BasicAuthConfig;
import io.fulcrum.balancer.edge.ErrorResponses;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * A route's basic authentication (RFC 7617) against the bcrypt hashes of its users file.
 *
 * <p>A bcrypt check takes tens of milliseconds by design, far too long for an event loop: it runs
 * on {@code checks} (the access checks' own threads), and the request waits for it as for an auth service.
 * A password once found right is remembered (as a SHA-256 of user and password, never the password)
 * for as long as this config is in force, so a client's next requests pass at once. At most
 * {@link #MAX_CHECKS} checks run at once; past that a request gets 503, so that a flood of wrong
 * passwords costs a bounded share of the CPU. An unknown user costs a check too (against a hash of
 * the file's), so that the time of a 401 does not tell which users exist.
 *
 * <p>Thread-safe: the remembered passwords and the count of checks are concurrent.
 */
final class BasicAuth {
    /** Password checks running at once, over every event loop. */
    static final int MAX_CHECKS = 64;
    /** Passwords remembered as right; past it the memory starts again empty. */
    private static final int MAX_REMEMBERED = 10_000;
    static final String UNAUTHORIZED = "authentication required";
    static final String BUSY = "too many password checks at once";

    private final BasicAuthConfig config;
    private final Executor checks;
    private final String challenge;
    /** A hash of the file's, checked for unknown users so that they cost as much. */
    private final String decoy;
    private final Set<String> remembered = ConcurrentHashMap.newKeySet();
    private final AtomicInteger running = new AtomicInteger();

    BasicAuth(BasicAuthConfig config, Executor checks) {
        this.config = config;
        this.checks = checks;
        this.challenge = "Basic realm=\"" + config.realm() + "\", charset=\"UTF-8\"";
        this.decoy = config.users().values().iterator().next();
    }

    /** What it checks against. */
    BasicAuthConfig config() {
        return config;
    }

    /**
     * Checks the credentials of {@code request}: a future already done when the answer is known at
     * once (no or malformed credentials, a remembered password, too many checks), else one that a
     * check completes on {@code loop}. A passing request loses its {@code Authorization} header
     * unless {@code forward-authorization} keeps it.
     */
    Future<Verdict> check(AuthRequest request, EventExecutor loop) {
        HttpHeaders headers = request.head().headers();
        String[] credentials = credentials(headers.get(HttpHeaderNames.AUTHORIZATION));
        if (credentials == null) {
            return loop.newSucceededFuture(unauthorized(request));
        }
        String hash = config.users().get(credentials[0]);
        String key = hash == null ? null : key(credentials[0], credentials[1]);
        if (key != null && remembered.contains(key)) {
            return loop.newSucceededFuture(pass(headers));
        }
        if (running.incrementAndGet() > MAX_CHECKS) {
            running.decrementAndGet();
            FullHttpResponse busy = ErrorResponses.json(request.alloc(), HttpResponseStatus.SERVICE_UNAVAILABLE, BUSY,
                    request.requestId(), false);
            busy.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
            return loop.newSucceededFuture(new Verdict(busy, BUSY));
        }
        Promise<Verdict> promise = loop.newPromise();
        checks.execute(() -> {
            boolean right;
            try {
                right = matches(credentials[1], hash == null ? decoy : hash) && hash != null;
            } finally {
                // Given back here, whatever the check did: the slot never waits on the loop.
                running.decrementAndGet();
            }
            loop.execute(() -> {
                if (promise.isDone()) {
                    return; // cancelled: the client left
                }
                if (right) {
                    if (remembered.size() >= MAX_REMEMBERED) {
                        remembered.clear();
                    }
                    remembered.add(key);
                }
                Verdict v = right ? pass(headers) : unauthorized(request);
                if (!promise.trySuccess(v)) {
                    v.release();
                }
            });
        });
        return promise;
    }

    private Verdict pass(HttpHeaders headers) {
        if (!config.forwardAuthorization()) {
            headers.remove(HttpHeaderNames.AUTHORIZATION);
        }
        return Verdict.PASS;
    }

    /** 401 with the challenge (RFC 7235 section 3.1), in the balancer's JSON error body. */
    private Verdict unauthorized(AuthRequest request) {
        FullHttpResponse r = ErrorResponses.json(request.alloc(), HttpResponseStatus.UNAUTHORIZED, UNAUTHORIZED,
                request.requestId(), false);
        r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, challenge);
        return new Verdict(r, UNAUTHORIZED);
    }

    /** User and password of a {@code Basic} credential, or {@code null} for anything else. */
    static String[] credentials(String authorization) {
        if (authorization == null || authorization.length() < 7
                || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String text;
        try {
            text = new String(Base64.getDecoder().decode(authorization.substring(6).strip()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int colon = text.indexOf(':');
        return colon <= 0 ? null : new String[] {text.substring(0, colon), text.substring(colon + 1)};
    }

    private static boolean matches(String password, String hash) {
        try {
            return BCrypt.checkpw(password, hash);
        } catch (IllegalArgumentException e) {
            return false; // longer than bcrypt takes (72 bytes), or a hash it cannot read
        }
    }

    private static String key(String user, String password) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((user + '\0' + password).getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
