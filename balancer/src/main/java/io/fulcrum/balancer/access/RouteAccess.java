package io.fulcrum.balancer.access;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.FutureListener;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;

/**
 * What one route asks of its requests before any backend, in the order asked: the client's network
 * ({@link ClientNetworks}, the route's or the top level's), a CORS preflight answered here
 * ({@link Cors}), then basic authentication and forward authentication ({@link BasicAuth},
 * {@link ForwardAuth}), and last the CORS headers of the response. Built once per config; immutable
 * and thread-safe.
 */
public final class RouteAccess {
    private final ClientNetworks networks;
    private final BasicAuth basic;
    private final ForwardAuth forward;
    private final Cors cors;

    RouteAccess(ClientNetworks networks, BasicAuth basic, ForwardAuth forward, Cors cors) {
        this.networks = networks;
        this.basic = basic;
        this.forward = forward;
        this.cors = cors;
    }

    /** The route's basic authentication, or {@code null}; a reload may keep it ({@link AccessRules}). */
    BasicAuth basicAuth() {
        return basic;
    }

    /** Why a client at {@code client} is refused (403), or {@code null} when it may go on. */
    public String refuses(InetAddress client) {
        return networks == null ? null : networks.refuses(client);
    }

    /** The answer to {@code request} when it is a CORS preflight this route answers, else {@code null}. */
    public Verdict preflight(HttpRequest request, ByteBufAllocator alloc, String requestId) {
        return cors != null && Cors.isPreflight(request) ? cors.preflight(request, alloc, requestId) : null;
    }

    /** Whether a request must be authenticated before it goes to a backend. */
    public boolean authenticates() {
        return basic != null || forward != null;
    }

    /** Whether the authentication asks an auth service (and needs a connection for it). */
    public boolean forwards() {
        return forward != null;
    }

    /**
     * Authenticates {@code request}: basic authentication, then forward authentication, each only
     * when the one before passed. The future completes on {@code loop}; it is done already when
     * the answer is known at once. A caller that gives up on it cancels it, and releases the
     * response of a verdict it does not write.
     */
    public Future<Verdict> authenticate(AuthRequest request, EventExecutor loop) {
        Future<Verdict> verdict = checks(request, loop);
        if (cors != null) {
            // A browser reads a refusal (a 401, a login redirect) only when it carries CORS headers.
            String origin = origin(request.head());
            verdict.addListener(f -> {
                Verdict v = verdict.getNow();
                if (v != null && !v.passes()) {
                    cors.decorate(v.response().headers(), origin);
                }
            });
        }
        return verdict;
    }

    /** Basic authentication, then forward authentication once the password passed. */
    private Future<Verdict> checks(AuthRequest request, EventExecutor loop) {
        Future<Verdict> first = basic != null ? basic.check(request, loop) : null;
        if (forward == null) {
            return first;
        }
        if (first == null) {
            return forward.check(request, loop);
        }
        if (first.isDone() && !first.getNow().passes()) {
            return first;
        }
        Promise<Verdict> both = loop.newPromise();
        FutureListener<Verdict> then = f -> {
            Verdict v = f.getNow();
            if (v == null || both.isDone()) {
                if (v != null) {
                    v.release();
                }
                return;
            }
            if (!v.passes()) {
                both.setSuccess(v);
                return;
            }
            Future<Verdict> second = forward.check(request, loop);
            both.addListener(b -> {
                if (b.isCancelled()) {
                    second.cancel(false);
                }
            });
            second.addListener((FutureListener<Verdict>) s -> {
                Verdict w = s.getNow();
                if (w != null && !both.trySuccess(w)) {
                    w.release();
                }
            });
        };
        both.addListener(b -> {
            if (b.isCancelled()) {
                first.cancel(false);
            }
        });
        first.addListener(then);
        return both;
    }

    /**
     * Sets the CORS headers of a response to a request whose {@code Origin} was {@code origin}
     * ({@code null} when it had none); nothing when the route has no CORS rules.
     */
    public void decorate(HttpHeaders response, String origin) {
        if (cors != null) {
            cors.decorate(response, origin);
        }
    }

    /** Whether the route has CORS rules (then {@link #decorate} must see each response). */
    public boolean cors() {
        return cors != null;
    }

    /** The {@code Origin} of {@code request}, read before the head is rewritten. */
    public static String origin(HttpRequest request) {
        return request.headers().get(HttpHeaderNames.ORIGIN);
    }
}
