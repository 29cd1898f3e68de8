package io.fulcrum.balancer.admin;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.BackendSnapshot;
import io.fulcrum.balancer.balancing.DecisionTrace;
import io.fulcrum.balancer.balancing.RequestInfo;
import io.fulcrum.balancer.edge.RedisBuckets;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes admin requests: health, readiness, metrics, the backend table, drain and enable, reload,
 * config status and the status page. A terminal handler, so it extends
 * {@link SimpleChannelInboundHandler}, which releases each request after {@code channelRead0}.
 *
 * <p>Reads (health, metrics, backends) are answered on the admin event loop; they only read
 * snapshots and counters. Anything that swaps a snapshot (drain, enable, reload) runs on the
 * control thread, and its response is written from the completion; the connection stops reading
 * meanwhile so that pipelined requests keep their order. Stateless and shareable.
 */
@Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
    private static final String JSON = "application/json";
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String HTML = "text/html; charset=utf-8";

    /** One answer: status, body, for 405 the allowed methods, for 401 the authentication scheme. */
    record Reply(HttpResponseStatus status, String contentType, byte[] body, String allow, String authenticate) {
        Reply(HttpResponseStatus status, String contentType, byte[] body) {
            this(status, contentType, body, null, null);
        }
    }

    private final AdminServices services;
    private final BooleanSupplier readiness;
    private final byte[] statusPage;
    private final ObjectMapper json = new ObjectMapper();

    private final boolean loopback;
    /** The backends' recent samples, or {@code null} when none are kept. */
    private final BackendHistory history;

    /** @param loopback whether the admin port is bound to a loopback address */
    AdminHandler(AdminServices services, BooleanSupplier readiness, byte[] statusPage, boolean loopback) {
        this(services, readiness, statusPage, loopback, null);
    }

    /** @param history the backends' recent samples for {@code /backends/history}, or {@code null} for none */
    AdminHandler(AdminServices services, BooleanSupplier readiness, byte[] statusPage, boolean loopback,
            BackendHistory history) {
        this.history = history;
        this.loopback = loopback;
        this.services = requireNonNull(services, "services");
        this.readiness = requireNonNull(readiness, "readiness");
        this.statusPage = requireNonNull(statusPage, "statusPage");
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            FullHttpResponse response = response(error(HttpResponseStatus.BAD_REQUEST, "malformed request"));
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        QueryStringDecoder query = new QueryStringDecoder(request.uri());
        String path = query.path();
        HttpMethod method = request.method();
        try {
            if (method.equals(HttpMethod.POST)) {
                AdminGuard.Refusal refusal = AdminGuard.check(request.headers(), services.config().get().adminToken(),
                        loopback);
                if (refusal != null) {
                    log.warn("admin {} {} refused: {}", method, path, refusal.message());
                    Reply r = error(refusal.status(), refusal.message());
                    write(ctx, refusal.status().equals(HttpResponseStatus.UNAUTHORIZED)
                            ? new Reply(r.status(), r.contentType(), r.body(), null, "Bearer realm=\"fulcrum-admin\"")
                            : r);
                    return;
                }
            }
            if (path.equals("/explain")) {
                get(ctx, method, () -> explain(query));
                return;
            }
            route(ctx, method, path);
        } catch (RuntimeException e) {
            log.warn("admin {} {} failed: {}", method, path, e.toString());
            write(ctx, error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error"));
        }
    }

    private void route(ChannelHandlerContext ctx, HttpMethod method, String path) {
        switch (path) {
            case "/":
                get(ctx, method, () -> new Reply(HttpResponseStatus.OK, HTML, statusPage));
                return;
            case "/health":
                get(ctx, method, () -> jsonReply(HttpResponseStatus.OK, Map.of("status", "UP")));
                return;
            case "/ready":
                get(ctx, method, this::ready);
                return;
            case "/metrics":
                get(ctx, method, () -> new Reply(HttpResponseStatus.OK, PROMETHEUS_TEXT,
                        services.meters().scrape().getBytes(StandardCharsets.UTF_8)));
                return;
            case "/backends":
                get(ctx, method, this::backends);
                return;
            case "/backends/history":
                get(ctx, method, () -> history == null
                        ? error(HttpResponseStatus.NOT_FOUND, "no history kept")
                        : jsonReply(HttpResponseStatus.OK, history.snapshot()));
                return;
            case "/config/status":
                get(ctx, method, this::configStatus);
                return;
            case "/reload":
                if (method.equals(HttpMethod.POST)) {
                    async(ctx, reload());
                } else {
                    write(ctx, methodNotAllowed("POST"));
                }
                return;
            default:
                break;
        }
        String[] parts = path.split("/", -1);
        // "/backends/{id}/drain" splits into "", "backends", id, action
        if (parts.length == 4 && parts[1].equals("backends") && !parts[2].isEmpty()
                && (parts[3].equals("drain") || parts[3].equals("enable"))) {
            if (method.equals(HttpMethod.POST)) {
                async(ctx, setDraining(parts[2], parts[3].equals("drain")));
            } else {
                write(ctx, methodNotAllowed("POST"));
            }
            return;
        }
        write(ctx, error(HttpResponseStatus.NOT_FOUND, "no such admin resource: " + path));
    }

    private interface ReplySupplier {
        Reply get();
    }

    private void get(ChannelHandlerContext ctx, HttpMethod method, ReplySupplier reply) {
        write(ctx, method.equals(HttpMethod.GET) ? reply.get() : methodNotAllowed("GET"));
    }

    private Reply ready() {
        boolean anyRoutable = false;
        for (BackendRegistry pool : services.pools().get().values()) {
            for (Backend b : pool.current().backends()) {
                anyRoutable |= b.state().routable();
            }
        }
        String reason = services.proxy().draining() ? "shutting down"
                : !readiness.getAsBoolean() ? "starting"
                : !anyRoutable ? "no routable backend" : null;
        if (reason == null) {
            return jsonReply(HttpResponseStatus.OK, Map.of("status", "READY"));
        }
        return jsonReply(HttpResponseStatus.SERVICE_UNAVAILABLE, Map.of("status", "NOT_READY", "reason", reason));
    }

    /**
     * What the balancer would choose now for a client of {@code region} (default: its own), and
     * why; the selection is only shown, never used nor counted.
     */
    private Reply explain(QueryStringDecoder query) {
        List<String> regions = query.parameters().get("region");
        String region = regions == null || regions.isEmpty() || regions.get(0).isEmpty() ? null : regions.get(0);
        if (region != null && (region.length() > 64 || !region.matches("[A-Za-z0-9._-]+"))) {
            return error(HttpResponseStatus.BAD_REQUEST, "region: not a region name (expected: letters, digits, '.', '_' or '-')");
        }
        List<String> pools = query.parameters().get("pool");
        String poolName = pools == null || pools.isEmpty() || pools.get(0).isEmpty() ? null : pools.get(0);
        BackendRegistry registry = poolName == null ? services.registry() : services.pools().get().get(poolName);
        if (registry == null) {
            return error(HttpResponseStatus.NOT_FOUND, "pool: no such pool (expected: one of "
                    + String.join(", ", services.pools().get().keySet()) + ")");
        }
        DecisionTrace trace = DecisionTrace.explainTrace();
        Backend chosen = registry.current().loadBalancer()
                .select(new RequestInfo(region, List.of()), trace);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("clientRegion", trace.clientRegion());
        body.put("regionSource", trace.regionSource());
        body.put("planRegion", trace.planRegion());
        body.put("pass", trace.pass().name().toLowerCase(Locale.ROOT));
        body.put("chosen", chosen == null ? null : chosen.id());
        body.put("chosenRegion", chosen == null ? null : chosen.region());
        body.put("summary", trace.compact());
        body.put("candidates", trace.candidates().stream().map(AdminHandler::candidateView).toList());
        return jsonReply(HttpResponseStatus.OK, body);
    }

    /**
     * One candidate as JSON: a term the policy does not have (NaN, e.g. round-robin's cost) is
     * {@code null}, never the string {@code "NaN"} where a number is expected.
     */
    private static Map<String, Object> candidateView(DecisionTrace.Candidate c) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", c.id());
        view.put("region", c.region());
        view.put("state", c.state());
        view.put("inFlight", c.inFlight());
        view.put("maxInFlight", c.maxInFlight());
        view.put("latencyMillis", finiteOrNull(c.latencyMillis()));
        view.put("reportedLoad", finiteOrNull(c.reportedLoad()));
        view.put("weight", c.weight());
        view.put("warmUp", finiteOrNull(c.warmUp()));
        view.put("errorRate", finiteOrNull(c.errorRate()));
        view.put("errorFactor", finiteOrNull(c.errorFactor()));
        view.put("cost", finiteOrNull(c.cost()));
        return view;
    }

    private static Double finiteOrNull(double value) {
        return Double.isFinite(value) ? value : null;
    }

    private Reply backends() {
        List<BackendView> views = new ArrayList<>();
        services.pools().get().forEach((pool, registry) -> {
            for (Backend b : registry.current().backends()) {
                views.add(BackendView.of(b, pool));
            }
        });
        return jsonReply(HttpResponseStatus.OK, views);
    }

    private Reply configStatus() {
        ConfigReloads reloader = services.reloader();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("hash", services.config().get().hash());
        body.put("generation", services.registry().current().generation());
        body.put("file", reloader == null ? null : reloader.file().toString());
        body.put("transport", services.transport());
        body.put("rateLimitStore", rateLimitStore(services.rateLimitStore()));
        ReloadResult last = reloader == null ? null : reloader.lastResult();
        if (last != null) {
            Map<String, Object> lastReload = new LinkedHashMap<>();
            lastReload.put("applied", last.applied());
            lastReload.put("trigger", last.trigger());
            lastReload.put("at", last.at().toString());
            lastReload.put("generation", last.generation());
            lastReload.put("problems", last.problems());
            lastReload.put("restartNeeded", last.restartNeeded());
            body.put("lastReload", lastReload);
        } else {
            body.put("lastReload", null);
        }
        return jsonReply(HttpResponseStatus.OK, body);
    }

    /**
     * Where the rate limits keep their buckets: {@code local}, or the fleet's Redis and whether it
     * answers now (while it does not, each limit is decided in this balancer alone, or refused).
     */
    private static Map<String, Object> rateLimitStore(RedisBuckets store) {
        Map<String, Object> view = new LinkedHashMap<>();
        if (store == null) {
            view.put("kind", "local");
            return view;
        }
        view.put("kind", "redis");
        view.put("url", store.config().safeUrl());
        view.put("reachable", store.reachable());
        Instant since = store.unreachableSince();
        view.put("unreachableSince", since == null ? null : since.toString());
        view.put("lastError", since == null ? null : store.lastError());
        view.put("failOpen", store.config().failOpen());
        view.put("decidedLocally", store.fallbacks());
        view.put("failures", store.failures());
        view.put("takesInFlight", store.takesInFlight());
        return view;
    }

    private CompletableFuture<Reply> reload() {
        ConfigReloads reloader = services.reloader();
        if (reloader == null) {
            return CompletableFuture.completedFuture(problemReply("no config file to reload", List.of()));
        }
        return reloader.reload("admin").thenApply(r -> {
            if (!r.applied()) {
                return problemReply("config rejected; the previous config stays in force", r.problems());
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("status", "reloaded");
            body.put("generation", r.generation());
            body.put("restartNeeded", r.restartNeeded());
            return jsonReply(HttpResponseStatus.OK, body);
        });
    }

    private CompletableFuture<Reply> setDraining(String id, boolean draining) {
        return CompletableFuture.supplyAsync(() -> {
            Backend backend = null;
            BackendRegistry registry = null;
            String pool = null;
            for (Map.Entry<String, BackendRegistry> e : services.pools().get().entrySet()) {
                Backend b = e.getValue().current().byId(id);
                if (b != null) {
                    backend = b;
                    registry = e.getValue();
                    pool = e.getKey();
                }
            }
            if (backend == null) {
                return error(HttpResponseStatus.NOT_FOUND, "no such backend: " + id);
            }
            backend.state().setDraining(draining);
            // A new snapshot, so that the load balancer is rebuilt without (or with) the backend.
            registry.refresh();
            log.info("backend {} {}", id, draining ? "draining: no new requests" : "enabled");
            return jsonReply(HttpResponseStatus.OK, BackendView.of(backend, pool));
        }, services.control());
    }

    private void async(ChannelHandlerContext ctx, CompletableFuture<Reply> pending) {
        ctx.channel().config().setAutoRead(false);
        pending.whenComplete((reply, failure) -> {
            Reply r = reply;
            if (failure != null) {
                log.warn("admin action failed: {}", failure.toString());
                r = error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error");
            }
            ctx.writeAndFlush(response(r)).addListener(f -> ctx.channel().config().setAutoRead(true));
        });
    }

    private Reply problemReply(String error, List<String> problems) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", error);
        body.put("problems", problems);
        return jsonReply(HttpResponseStatus.BAD_REQUEST, body);
    }

    private Reply methodNotAllowed(String allow) {
        Reply r = error(HttpResponseStatus.METHOD_NOT_ALLOWED, "method not allowed (expected: " + allow + ")");
        return new Reply(r.status(), r.contentType(), r.body(), allow, null);
    }

    private Reply error(HttpResponseStatus status, String message) {
        return jsonReply(status, Map.of("error", message));
    }

    private Reply jsonReply(HttpResponseStatus status, Object body) {
        try {
            return new Reply(status, JSON, json.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render JSON for " + body.getClass().getSimpleName(), e);
        }
    }

    private static void write(ChannelHandlerContext ctx, Reply reply) {
        ctx.writeAndFlush(response(reply));
    }

    private static FullHttpResponse response(Reply reply) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, reply.status(),
                Unpooled.wrappedBuffer(reply.body()));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, reply.contentType())
                .setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length)
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        if (reply.allow() != null) {
            response.headers().set(HttpHeaderNames.ALLOW, reply.allow());
        }
        if (reply.authenticate() != null) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, reply.authenticate());
        }
        return response;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.warn("admin connection {} failed: {}", ctx.channel().id(), cause.toString());
        ctx.close();
    }
}
