package io.fulcrum.balancer.exchange;

import io.fulcrum.balancer.access.AuthRequest;
import io.fulcrum.balancer.access.RouteAccess;
import io.fulcrum.balancer.access.Verdict;
import io.fulcrum.balancer.config.HeadersConfig;
import io.fulcrum.balancer.edge.ClientCertificateHeaders;
import io.fulcrum.balancer.edge.DebugAccess;
import io.fulcrum.balancer.edge.ErrorResponses;
import io.fulcrum.balancer.edge.HeaderRules;
import io.fulcrum.balancer.edge.ProxyProtocolHandler;
import io.fulcrum.balancer.edge.RateLimits;
import io.fulcrum.balancer.edge.RequestValidator;
import io.fulcrum.balancer.edge.RouteResponses;
import io.fulcrum.balancer.edge.TraceContext;
import io.fulcrum.balancer.edge.TrafficSplit;
import io.fulcrum.balancer.edge.TrustedEdges;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.fulcrum.balancer.route.Route;
import io.fulcrum.balancer.tls.ClientCertificate;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What every request goes through between its head and its exchange, whichever protocol brought
 * it: validation and limits, the request id, the client's address (trusted edges), trace context,
 * the route (asked once), the rate limit, a route's local answer, and the forwarding headers. What
 * a client could forge (request id, trace context, region header, forwarding headers) is taken only
 * from a trusted edge, unless {@code headers} says otherwise. Between the route and the exchange
 * stand the route's access rules ({@link RouteAccess}): the client's network, a CORS preflight,
 * and authentication, which the exchange waits for when it cannot be decided at once. The
 * HTTP/1.1 frontend and each HTTP/2 stream call {@link #admit}; only how an answer is written
 * differs, which they say through {@link Answers}.
 *
 * <p>One per client connection; confined to its event loop.
 */
public final class RequestIntake {
    private static final int MAX_REQUEST_ID_LENGTH = 200;
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    /** A route that requires a client certificate, asked over a connection without a verified one. */
    static final RequestValidator.Rejection CERTIFICATE_REQUIRED = new RequestValidator.Rejection(
            HttpResponseStatus.FORBIDDEN, "a verified client certificate is required");
    /** The error of a client refused by its network; the access log says which list refused it. */
    private static final String FORBIDDEN = "forbidden";

    /** How the frontend writes an answer the balancer gives itself. */
    public interface Answers {
        /**
         * The request was refused before any exchange: malformed or past a limit, or rate limited
         * ({@code retryAfter} is then the seconds of {@code Retry-After}, else {@code null}).
         */
        void refuse(HttpRequest request, String requestId, RequestValidator.Rejection rejection, String retryAfter);

        /** A route answered the request itself (redirect, fixed response, or the 404 of no route). */
        void answerLocally(HttpRequest request, FullHttpResponse response);
    }

    private final ProxyContext proxy;
    private final boolean tls;
    /** The address the connection came from: a trusted PROXY header's source, else the peer. */
    private final String hopAddress;
    private final InetAddress remoteAddress;
    /** The port the client connected to ({@code X-Forwarded-Port}) in decimal, or {@code null} when unknown. */
    private final String port;
    /**
     * The protocol the access log names, or {@code null} for the request's own version: an HTTP/2
     * stream reaches the intake as an HTTP/1.1 head, and is logged as {@code HTTP/2.0} as nginx and
     * HAProxy log it.
     */
    private final String protocol;
    /** The connection's verified client certificate, or {@code null} when it has none. */
    private final ClientCertificate clientCertificate;

    /**
     * @param tls the connection came in over TLS ({@code X-Forwarded-Proto: https})
     * @param hopAddress the connection's address as text
     * @param remoteAddress the same address, or {@code null} when the channel has none
     * @param port the port the client connected to, or -1 when unknown
     */
    RequestIntake(ProxyContext proxy, boolean tls, String hopAddress, InetAddress remoteAddress, int port,
            String protocol) {
        this(proxy, tls, hopAddress, remoteAddress, port, protocol, null);
    }

    /** @param clientCertificate the connection's verified client certificate, or {@code null} */
    RequestIntake(ProxyContext proxy, boolean tls, String hopAddress, InetAddress remoteAddress, int port,
            String protocol, ClientCertificate clientCertificate) {
        this.proxy = proxy;
        this.tls = tls;
        this.hopAddress = hopAddress;
        this.remoteAddress = remoteAddress;
        this.port = port > 0 ? Integer.toString(port) : null;
        this.protocol = protocol;
        this.clientCertificate = clientCertificate;
    }

    /** The intake of an HTTP/1.x connection: its address is a trusted PROXY header's source, else the peer. */
    public static RequestIntake of(ProxyContext proxy, boolean tls, Channel ch) {
        return of(proxy, tls, ch, null);
    }

    /** The intake of an HTTP/2 connection, whose streams are logged as {@code HTTP/2.0}. */
    public static RequestIntake ofHttp2(ProxyContext proxy, boolean tls, Channel ch) {
        return of(proxy, tls, ch, "HTTP/2.0");
    }

    private static RequestIntake of(ProxyContext proxy, boolean tls, Channel ch, String protocol) {
        InetSocketAddress remote = ProxyProtocolHandler.connectionAddress(ch);
        return new RequestIntake(proxy, tls, remote != null ? remote.getAddress().getHostAddress()
                : String.valueOf(ch.remoteAddress()), remote != null ? remote.getAddress() : null,
                ProxyProtocolHandler.connectionPort(ch), protocol, tls ? ClientCertificate.of(ch) : null);
    }

    boolean tls() {
        return tls;
    }

    /**
     * Takes a request head: either answers it through {@code answers} and returns {@code null}, or
     * rewrites it for the backend and returns its exchange, which the caller keeps and then starts.
     *
     * @param tunnels the connection's side for switching protocols, or {@code null} where it cannot
     *     switch (an HTTP/2 stream)
     */
    public Exchange admit(HttpRequest request, ClientSide side, TunnelSide tunnels, ByteBufAllocator alloc,
            Answers answers) {
        if (protocol != null && Grpc.is(request)) {
            // gRPC is spoken over HTTP/2 only: the balancer's own answers become gRPC statuses.
            GrpcReplies grpc = new GrpcReplies(side, answers);
            return admit(request, grpc, tunnels, alloc, grpc, proxy.settings());
        }
        return admit(request, side, tunnels, alloc, answers, proxy.settings());
    }

    private Exchange admit(HttpRequest request, ClientSide side, TunnelSide tunnels, ByteBufAllocator alloc,
            Answers answers, ProxySettings settings) {
        RequestValidator.Rejection rejection = RequestValidator.validate(request, settings.maxBodyBytes());
        TrustedEdges edges = settings.trustedEdges();
        // The headers a client could forge are believed only from a trusted edge: the address the
        // connection came from, as for X-Forwarded-For (a PROXY header's source, else the peer).
        boolean trusted = edges != null && edges.trusts(remoteAddress);
        HeadersConfig rules = settings.headers();
        String requestId = requestId(request, trusted || rules.requestId() == HeadersConfig.From.ANY);
        String client = edges == null ? hopAddress : edges.client(remoteAddress, hopAddress, request.headers());
        RequestFacts facts = facts(request, settings, client, trusted || rules.traceContext() == HeadersConfig.From.ANY);
        if (rejection != null) {
            record(answers, facts, client, requestId, rejection.status().code(), 0, rejection.message(), null);
            answers.refuse(request, requestId, rejection, null);
            return null;
        }
        // Asked once per request, before any backend is chosen; retries stay in the chosen pool.
        Route<BackendPool> route = proxy.router().route(request, facts.host());
        RouteAccess access = settings.access() == null ? null : settings.access().forRoute(route.name());
        String refused = access == null ? null
                : access.refuses(client == hopAddress ? remoteAddress : TrustedEdges.parse(client));
        if (refused != null) {
            proxy.refusedByAccess();
            FullHttpResponse forbidden = ErrorResponses.json(alloc, HttpResponseStatus.FORBIDDEN, FORBIDDEN, requestId,
                    false);
            access.decorate(forbidden.headers(), RouteAccess.origin(request));
            answerHere(request, forbidden, refused, facts, client, requestId, route, answers);
            return null;
        }
        long retryAfter = RateLimits.check(settings.rateLimits(), route.name(), request, client, proxy.clock());
        if (retryAfter > 0) {
            proxy.rateLimitedRequest();
            // Refused before any backend is chosen: no backend load, nothing to retry.
            record(answers, facts, client, requestId, RateLimits.REJECTION.status().code(), 0,
                    RateLimits.REJECTION.message(),
                    route);
            answers.refuse(request, requestId, RateLimits.REJECTION, Long.toString(retryAfter));
            return null;
        }
        if (route.requiresClientCertificate() && clientCertificate == null) {
            record(answers, facts, client, requestId, CERTIFICATE_REQUIRED.status().code(), 0,
                    CERTIFICATE_REQUIRED.message(), route);
            answers.refuse(request, requestId, CERTIFICATE_REQUIRED, null);
            return null;
        }
        // A preflight carries no credentials (Fetch standard, section 3.2.2): it is answered before
        // any authentication.
        Verdict preflight = access == null ? null : access.preflight(request, alloc, requestId);
        if (preflight != null) {
            if (preflight.reason() != null) {
                proxy.refusedByAccess();
            }
            answerHere(request, preflight.response(), preflight.reason(), facts, client, requestId, route, answers);
            return null;
        }
        if (route.kind() != Route.Kind.POOL) {
            FullHttpResponse response = RouteResponses.of(alloc, route, request, requestId, tls ? "https" : "http",
                    facts.host());
            if (access != null) {
                access.decorate(response.headers(), RouteAccess.origin(request));
            }
            answerHere(request, response, route.kind() == Route.Kind.NO_ROUTE ? RouteResponses.NO_ROUTE : null, facts,
                    client, requestId, route, answers);
            return null;
        }
        Future<Verdict> auth = access == null || !access.authenticates() ? null
                : access.authenticate(new AuthRequest(request, requestId, client, tls, alloc,
                        () -> proxy.pool().bootstrap(side.eventLoop())), side.eventLoop());
        if (auth != null && auth.isDone()) {
            Verdict v = auth.getNow();
            auth = null;
            if (!v.passes()) {
                proxy.refusedByAccess();
                answerHere(request, v.response(), v.reason(), facts, client, requestId, route, answers);
                return null;
            }
        }
        BackendPool pool = route.splits() ? TrafficSplit.pool(route, request, client) : route.pool();
        // Anybody else's region header is ignored: a client does not choose where it is served.
        String region = settings.regionHeader() == null || !trusted ? null
                : request.headers().get(settings.regionHeader());
        // The exchange reads the client's HTTP version before the rewrite makes it HTTP/1.1.
        Exchange ex = new Exchange(side, tunnels, proxy, pool, route, pool.settings().forRoute(route.limits()), request,
                requestId, region, client, access, auth);
        ex.facts(facts);
        ClientCertificateHeaders certificateHeaders = settings.clientCertificateHeaders();
        if (certificateHeaders != null) {
            // Whatever the client sent under these names goes; only a verified certificate sets them.
            ClientCertificate c = clientCertificate;
            certificateHeaders.apply(request.headers(), c == null ? null : c.subject(), c == null ? null : c.sans(),
                    c == null ? null : c.fingerprint());
        }
        HeaderRules.prepareRequest(request, new HeaderRules.Hop(hopAddress, client, tls, port, trusted,
                rules.forwarded()), requestId);
        if (facts.startedTraceparent() != null) {
            // No valid traceparent came in, or none that is believed: this request starts a trace
            // (its tracestate goes too).
            request.headers().remove(TraceContext.TRACESTATE);
            request.headers().set(TraceContext.TRACEPARENT, facts.startedTraceparent());
        }
        if (route.rewrites()) {
            request.setUri(route.rewrite(request.uri()));
        }
        // After the balancer's own forwarding headers, so that a route may replace them.
        route.editRequest(request.headers());
        // A request still waiting for its authentication is not copied: the shadow pool would get
        // it whatever the answer, and without the headers a passing answer adds.
        if (route.mirror() != null && auth == null) {
            Mirror copy = Mirror.sample(route, request, proxy, side.eventLoop());
            if (copy != null) {
                ex.mirror(copy);
            }
        }
        return ex;
    }

    /**
     * The request's facts as plain values, read before the head is rewritten; a request without a
     * valid {@code traceparent}, or whose {@code traceparent} is not {@code believed}, gets a new
     * trace id here.
     */
    private RequestFacts facts(HttpRequest request, ProxySettings settings, String client, boolean believed) {
        String traceparent = believed ? request.headers().get(TraceContext.TRACEPARENT) : null;
        String traceId = TraceContext.traceId(traceparent);
        String started = null;
        if (traceId == null) {
            started = TraceContext.start();
            traceId = TraceContext.startedTraceId(started);
        }
        DebugAccess debug = settings.debug();
        return new RequestFacts(System.currentTimeMillis(), request.method().name(), request.uri(),
                request.headers().get(HttpHeaderNames.HOST), request.headers().get(HttpHeaderNames.USER_AGENT),
                protocol != null ? protocol : request.protocolVersion().text(), traceId, started,
                debug != null && debug.allows(request.headers().contains(debug.header()),
                        client == hopAddress ? remoteAddress : TrustedEdges.parse(client)));
    }

    /** Answers {@code request} with {@code response} before any exchange, and records it with {@code error}. */
    private void answerHere(HttpRequest request, FullHttpResponse response, String error, RequestFacts facts,
            String client, String requestId, Route<BackendPool> route, Answers answers) {
        record(answers, facts, client, requestId, response.status().code(), response.content().readableBytes(),
                error, route);
        answers.answerLocally(request, response);
    }

    /**
     * A request answered before any exchange began: metered and logged here.
     *
     * @param answers how it is answered: a gRPC call's ({@link GrpcReplies}) makes {@code status} a gRPC status
     * @param route the request's route, or {@code null} when it was refused before routing
     */
    private void record(Answers answers, RequestFacts facts, String client, String requestId, int status,
            long bytesOut, String error, Route<BackendPool> route) {
        facts.report(proxy, requestId, client, status, false, 0, bytesOut, 0, 0, null, null, null, error,
                route == null ? null : route.name(), route == null || route.pool() == null || route.splits() ? null : route.pool().name(),
                answers instanceof GrpcReplies ? GrpcReplies.statusOfAnswer(status) : RequestRecord.NO_GRPC_STATUS);
    }

    /**
     * The client's X-Request-Id when it is {@code believed} and sane, else a new random 128-bit id
     * (which replaces the client's on the way to the backend).
     */
    private static String requestId(HttpRequest request, boolean believed) {
        String id = believed ? request.headers().get(HeaderRules.X_REQUEST_ID) : null;
        if (id != null && !id.isEmpty() && id.length() <= MAX_REQUEST_ID_LENGTH) {
            return id;
        }
        return newRequestId();
    }

    /** A new random 128-bit request id, in 32 lower-case hex digits. */
    public static String newRequestId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        byte[] out = new byte[32];
        long hi = random.nextLong();
        long lo = random.nextLong();
        for (int i = 0; i < 16; i++) {
            out[i] = HEX[(int) (hi >>> (60 - 4 * i)) & 0xF];
            out[16 + i] = HEX[(int) (lo >>> (60 - 4 * i)) & 0xF];
        }
        return new String(out, StandardCharsets.ISO_8859_1);
    }
}
