package io.fulcrum.balancer.access;

import io.fulcrum.balancer.config.ForwardAuthConfig;
import io.fulcrum.balancer.edge.ErrorResponses;
import io.fulcrum.balancer.edge.HeaderRules;
import io.fulcrum.balancer.edge.TrustedEdges;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A route's forward authentication, as Traefik's ForwardAuth and nginx's {@code auth_request}: a
 * {@code GET} to the auth service with the client's headers and what it asked for
 * ({@code X-Forwarded-Method}, {@code -Proto}, {@code -Host}, {@code -Uri}, {@code -For},
 * {@code X-Request-Id}), never its body. A 2xx lets the request go on, with the answer's headers
 * named in {@code response-headers} in place of any the client sent under those names; any other
 * answer goes to the client as the service gave it (status, headers, body); no answer within the
 * timeout, a refused connection or an unreadable answer gives the client {@code unavailable-status}.
 *
 * <p>The call is one connection on the request's own event loop ({@link AuthServiceCall}), closed
 * after the answer; nothing blocks. A service named by host name is looked up off the loop, and the
 * address is kept for {@link #RESOLVE_EVERY_NANOS}.
 *
 * <p>Thread-safe: the looked-up address is behind a volatile field; each call is confined to its
 * loop.
 */
final class ForwardAuth {
    static final String UNAVAILABLE = "auth service unavailable";
    /** How long a looked-up address of the service is used before it is looked up again. */
    static final long RESOLVE_EVERY_NANOS = TimeUnit.SECONDS.toNanos(30);
    /** Largest answer body taken from the service; a larger one is unreadable. */
    static final int MAX_ANSWER_BYTES = 64 * 1024;
    /**
     * Headers never sent to the service, nor passed from its answer: hop-by-hop ones (RFC 9110
     * section 7.6.1), the body's framing, {@code Expect} and {@code Host}; lower case.
     */
    private static final Set<AsciiString> NOT_SENT = Stream.concat(HeaderRules.HOP_BY_HOP.stream(),
            Stream.of(HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.EXPECT, HttpHeaderNames.HOST))
            .collect(Collectors.toUnmodifiableSet());

    private final ForwardAuthConfig config;
    private final Executor lookups;
    private final String hostHeader;
    private final AsciiString[] copied;
    private volatile Resolved resolved;
    /** A lookup renewing {@link #resolved} is out. */
    private final AtomicBoolean refreshing = new AtomicBoolean();

    private record Resolved(InetSocketAddress address, long atNanos) {
    }

    ForwardAuth(ForwardAuthConfig config, Executor lookups) {
        this.config = config;
        this.lookups = lookups;
        this.hostHeader = (config.host().indexOf(':') >= 0 ? "[" + config.host() + "]" : config.host())
                + (config.port() == 80 ? "" : ":" + config.port());
        this.copied = config.responseHeaders().stream().map(AsciiString::cached).toArray(AsciiString[]::new);
        InetAddress literal = TrustedEdges.parse(config.host());
        if (literal != null) {
            resolved = new Resolved(new InetSocketAddress(literal, config.port()), Long.MAX_VALUE);
        }
    }

    ForwardAuthConfig config() {
        return config;
    }

    /** Asks the service about {@code request}; the future completes on {@code loop}. */
    Future<Verdict> check(AuthRequest request, EventExecutor loop) {
        Promise<Verdict> promise = loop.newPromise();
        FullHttpRequest ask = ask(request);
        AuthServiceCall call = new AuthServiceCall(this, request, promise);
        Resolved r = resolved;
        if (r != null) {
            // The address known goes on serving while one lookup at a time renews it; a lookup
            // that fails keeps it.
            call.start(r.address(), ask, loop);
            if (r.atNanos() != Long.MAX_VALUE && System.nanoTime() - r.atNanos() >= RESOLVE_EVERY_NANOS
                    && refreshing.compareAndSet(false, true)) {
                CompletableFuture.supplyAsync(() -> new InetSocketAddress(config.host(), config.port()), lookups)
                        .whenComplete((address, failure) -> {
                            if (address != null && !address.isUnresolved()) {
                                resolved = new Resolved(address, System.nanoTime());
                            }
                            refreshing.set(false);
                        });
            }
            return promise;
        }
        CompletableFuture.supplyAsync(() -> new InetSocketAddress(config.host(), config.port()), lookups)
                .whenComplete((address, failure) -> loop.execute(() -> {
                    if (address != null && !address.isUnresolved()) {
                        resolved = new Resolved(address, System.nanoTime());
                        call.start(address, ask, loop);
                    } else {
                        ask.release();
                        call.unavailable("cannot resolve " + config.host());
                    }
                }));
        return promise;
    }

    /** The service's request: the client's head without its body, and what it asked for. */
    private FullHttpRequest ask(AuthRequest request) {
        FullHttpRequest ask = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, config.target());
        HttpHeaders to = ask.headers();
        HttpHeaders from = request.head().headers();
        if (config.requestHeaders().isEmpty()) {
            for (Map.Entry<String, String> h : from) {
                if (!NOT_SENT.contains(AsciiString.of(h.getKey()).toLowerCase())) {
                    to.add(h.getKey(), h.getValue());
                }
            }
        } else {
            for (String name : config.requestHeaders()) {
                List<String> values = from.getAll(name);
                if (!values.isEmpty()) {
                    to.add(name, values);
                }
            }
        }
        String host = from.get(HttpHeaderNames.HOST);
        to.set(HttpHeaderNames.HOST, hostHeader)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
                .set(X_FORWARDED_METHOD, request.head().method().name())
                .set(HeaderRules.X_FORWARDED_PROTO, request.tls() ? "https" : "http")
                .set(X_FORWARDED_URI, request.head().uri())
                .set(HeaderRules.X_FORWARDED_FOR, request.client())
                .set(HeaderRules.X_REQUEST_ID, request.requestId());
        if (host != null) {
            to.set(HeaderRules.X_FORWARDED_HOST, host);
        } else {
            to.remove(HeaderRules.X_FORWARDED_HOST);
        }
        return ask;
    }

    static final AsciiString X_FORWARDED_METHOD = AsciiString.cached("X-Forwarded-Method");
    static final AsciiString X_FORWARDED_URI = AsciiString.cached("X-Forwarded-Uri");

    /**
     * The verdict of the service's {@code answer} (released here) on {@code request}: a 2xx passes
     * it, with the listed headers copied; anything else becomes the client's answer.
     */
    Verdict verdict(FullHttpResponse answer, AuthRequest request) {
        int status = answer.status().code();
        if (status >= 200 && status < 300) {
            HttpHeaders head = request.head().headers();
            for (AsciiString name : copied) {
                // Never the client's own: only the service names who the client is.
                head.remove(name);
                List<String> values = answer.headers().getAll(name);
                if (!values.isEmpty()) {
                    head.add(name, values);
                }
            }
            answer.release();
            return Verdict.PASS;
        }
        HttpHeaders h = answer.headers();
        for (AsciiString name : NOT_SENT) {
            h.remove(name);
        }
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, answer.content().readableBytes());
        h.set(HeaderRules.X_REQUEST_ID, request.requestId());
        return new Verdict(answer, "refused by forward-auth (" + status + ")");
    }

    /** The client's answer when the service gave none it could use. */
    Verdict unavailable(AuthRequest request) {
        return new Verdict(ErrorResponses.json(request.alloc(), HttpResponseStatus.valueOf(config.unavailableStatus()),
                UNAVAILABLE, request.requestId(), false), UNAVAILABLE);
    }
}
