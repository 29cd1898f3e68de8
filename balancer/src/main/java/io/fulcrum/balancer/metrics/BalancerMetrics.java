package io.fulcrum.balancer.metrics;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.BackendState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;

/**
 * Every meter the balancer publishes, named in this one class (lowercase, dot-separated; the
 * Prometheus registry renders {@code fulcrum.requests} as {@code fulcrum_requests_total}). Tags are
 * low-cardinality only: {@code backend}, {@code method} (standard methods only), {@code outcome},
 * {@code status.class}, {@code result}, {@code reason}, and the regions {@code from} and {@code to}.
 *
 * <p>Per-backend meters are function gauges and counters that read {@link BackendState} when
 * scraped, so the request path pays nothing for them. They are re-bound whenever the registry
 * publishes a new snapshot: meters of backends that left are removed, backends that arrived get
 * theirs.
 *
 * <p>Thread-safe. {@link #bindBackends} listeners run on whichever thread swaps the snapshot (the
 * control thread); the rebinding is serialized by this object's monitor and never runs on an event
 * loop's request path.
 */
public final class BalancerMetrics implements AutoCloseable {
    public static final String REQUESTS = "fulcrum.requests";
    public static final String REQUEST_DURATION = "fulcrum.request.duration";
    public static final String CONNECTIONS_ACTIVE = "fulcrum.connections.active";
    public static final String BACKEND_IN_FLIGHT = "fulcrum.backend.in.flight";
    public static final String BACKEND_REQUESTS = "fulcrum.backend.requests";
    public static final String BACKEND_ERRORS = "fulcrum.backend.errors";
    public static final String BACKEND_HEALTHY = "fulcrum.backend.healthy";
    public static final String BACKEND_EJECTED = "fulcrum.backend.ejected";
    public static final String BACKEND_ROUTABLE = "fulcrum.backend.routable";
    public static final String BACKEND_DRAINING = "fulcrum.backend.draining";
    public static final String BACKEND_LATENCY_EWMA = "fulcrum.backend.latency.ewma";
    public static final String BACKEND_LOAD_REPORTED = "fulcrum.backend.load.reported";
    public static final String BACKEND_FIRST_BYTE = "fulcrum.backend.first.byte";
    public static final String BACKEND_HOLD_DOWNS = "fulcrum.backend.hold.downs";
    public static final String BACKEND_EJECTIONS = "fulcrum.backend.ejections";
    public static final String BACKEND_CONNECTIONS = "fulcrum.backend.connections";
    public static final String CLIENT_RECEIVED = "fulcrum.client.received";
    public static final String CLIENT_SENT = "fulcrum.client.sent";
    public static final String RETRIES = "fulcrum.retries";
    public static final String RETRIES_ACTIVE = "fulcrum.retries.active";
    public static final String RETRY_BUDGET_REFUSED = "fulcrum.retry.budget.refused";
    public static final String ROUTING_PANIC = "fulcrum.routing.panic";
    public static final String ROUTING_SPILLOVER = "fulcrum.routing.spillover";
    public static final String CONFIG_RELOAD = "fulcrum.config.reload";
    public static final String CONFIG_INFO = "fulcrum.config.info";
    /** The socket transport in use, as its {@code transport} tag: io_uring, epoll or nio. */
    public static final String TRANSPORT_INFO = "fulcrum.transport.info";
    public static final String ACCESS_LOG_DROPPED = "fulcrum.access.log.dropped";
    public static final String BACKENDS = "fulcrum.backends";
    public static final String RATE_LIMITED = "fulcrum.rate.limited";
    public static final String ACCESS_REFUSED = "fulcrum.access.refused";
    public static final String RESPONSES_TOO_LARGE = "fulcrum.responses.too.large";
    public static final String RATE_LIMIT_KEYS = "fulcrum.rate.limit.keys";
    public static final String RATE_LIMIT_STORE_UP = "fulcrum.rate.limit.store.up";
    public static final String RATE_LIMIT_STORE_FALLBACKS = "fulcrum.rate.limit.store.fallbacks";
    public static final String RATE_LIMIT_STORE_FAILURES = "fulcrum.rate.limit.store.failures";
    public static final String PROXY_PROTOCOL_REFUSED = "fulcrum.proxy.protocol.refused";
    public static final String TLS_HANDSHAKE_FAILURES = "fulcrum.tls.handshake.failures";
    public static final String OCSP_FETCHED = "fulcrum.tls.ocsp.fetched";
    public static final String OCSP_FAILURES = "fulcrum.tls.ocsp.failures";
    public static final String OCSP_STAPLED = "fulcrum.tls.ocsp.stapled";
    public static final String CLIENT_HEAD_TIMEOUTS = "fulcrum.client.head.timeouts";
    /** Requests waiting now in a pool's queue for a backend below max-in-flight. */
    public static final String QUEUE_LENGTH = "fulcrum.queue.length";
    /** Time each queued request spent in its pool's queue, served or not. */
    public static final String QUEUE_WAIT = "fulcrum.queue.wait";
    /** Requests the queue answered with 503, by {@code reason}: {@code timeout} or {@code full}. */
    public static final String QUEUE_REFUSED = "fulcrum.queue.refused";
    public static final String CONNECTIONS_PER_CLIENT_REFUSED = "fulcrum.connections.per.client.refused";
    public static final String CONNECTIONS_PER_CLIENT_ADDRESSES = "fulcrum.connections.per.client.addresses";

    public static final String TAG_BACKEND = "backend";
    public static final String TAG_POOL = "pool";
    public static final String TAG_ROUTE = "route";
    /** Client requests by route, pool and status class. */
    public static final String ROUTE_REQUESTS = "fulcrum.route.requests";
    /** gRPC calls by the backend that answered and the {@code grpc-status} the client got. */
    public static final String GRPC_REQUESTS = "fulcrum.grpc.requests";
    public static final String TAG_GRPC_STATUS = "grpc.status";
    /** Copies of requests to a route's shadow pool ({@code mirror}), by route, shadow pool and result. */
    public static final String MIRROR_REQUESTS = "fulcrum.mirror.requests";
    /** Second tries of hedged requests ({@code hedge}), by route, pool and result: sent, won, refused. */
    public static final String HEDGE_REQUESTS = "fulcrum.hedge.requests";
    /** Always 1, one series per backend: which pool it is in (join on {@code backend}). */
    public static final String BACKEND_POOL = "fulcrum.backend.pool";
    /** Backends configured in each pool. */
    public static final String POOL_BACKENDS = "fulcrum.pool.backends";
    public static final String TAG_METHOD = "method";
    public static final String TAG_OUTCOME = "outcome";
    public static final String TAG_STATUS_CLASS = "status.class";
    public static final String TAG_RESULT = "result";
    public static final String TAG_REASON = "reason";
    public static final String TAG_FROM = "from";
    public static final String TAG_TO = "to";
    public static final String TAG_HASH = "hash";

    /** How a try can end; the values of {@code fulcrum.retries}' {@code reason} tag. */
    public static final List<String> RETRY_REASONS = List.of("connect_failure", "reset", "malformed", "timeout",
            "server_error");

    private final MeterRegistry registry;
    private final FunctionMeters functions;
    private final RequestMetrics requests;
    private final PoolMeters pools;
    private final Counter reloadSuccess;
    private final Counter reloadFailure;
    /** The info gauge of the config in force, replaced when its hash changes. */
    private Meter configInfo;
    private String configHash;
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    public BalancerMetrics(MeterRegistry registry) {
        this.registry = requireNonNull(registry, "registry");
        this.functions = new FunctionMeters(registry);
        this.requests = new RequestMetrics(registry);
        this.pools = new PoolMeters(registry, functions, requests);
        this.reloadSuccess = Counter.builder(CONFIG_RELOAD).tag(TAG_RESULT, "success")
                .description("Config reloads, by result").register(registry);
        this.reloadFailure = Counter.builder(CONFIG_RELOAD).tag(TAG_RESULT, "failure")
                .description("Config reloads, by result").register(registry);
        requests.declareRetryReasons(RETRY_REASONS);
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The request meters, recorded from one {@link RequestRecord} per finished request. */
    public RequestMetrics requests() {
        return requests;
    }

    /** JVM and process meters: memory, GC, threads, class loading, CPU, uptime. */
    public BalancerMetrics bindJvm() {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        return this;
    }

    /** Open client connections, read when scraped. */
    public BalancerMetrics bindConnections(IntSupplier activeConnections) {
        gauge(CONNECTIONS_ACTIVE, activeConnections, "activeConnections",
                "Client connections open on the traffic port");
        return this;
    }

    /**
     * Binds the pool {@code pool}'s retry budget, read when scraped: the retries holding one of
     * its slots now, and the retries it refused. Removed by {@link #unbindPool}.
     */
    public BalancerMetrics bindRetryBudget(String pool, IntSupplier activeRetries, LongSupplier refusedRetries) {
        pools.bindRetryBudget(pool, activeRetries, refusedRetries);
        return this;
    }

    /**
     * What the client limits refused, read when scraped: connections closed because a request
     * head was not complete within request-head, connections refused by connections-per-client,
     * and the addresses that cap counts now.
     */
    public BalancerMetrics bindClientLimits(LongSupplier headTimeouts, LongSupplier perClientRefused,
            IntSupplier perClientAddresses) {
        counter(CLIENT_HEAD_TIMEOUTS, headTimeouts, "headTimeouts",
                "Client connections closed because a request head (an HTTP/2 header block), or the PROXY header"
                        + " and TLS handshake before the first, was not complete within timeouts.request-head");
        counter(CONNECTIONS_PER_CLIENT_REFUSED, perClientRefused, "perClientRefused",
                "Client connections refused because limits.connections-per-client were open from their address");
        gauge(CONNECTIONS_PER_CLIENT_ADDRESSES, perClientAddresses, "perClientAddresses",
                "Client addresses with connections open, as limits.connections-per-client counts them");
        return this;
    }

    /**
     * The edge of the balancer, read when scraped: requests refused by the rate limits, keys their
     * tables track now, and connections closed for a PROXY header they may not send.
     */
    public BalancerMetrics bindEdge(LongSupplier rateLimited, IntSupplier rateLimitKeys,
            LongSupplier proxyHeadersRefused) {
        counter(RATE_LIMITED, rateLimited, "rateLimited", "Requests refused with 429 by the rate limit");
        gauge(RATE_LIMIT_KEYS, rateLimitKeys, "rateLimitKeys",
                "Keys the rate limits track now, top-level and per-route together");
        counter(PROXY_PROTOCOL_REFUSED, proxyHeadersRefused, "proxyHeadersRefused",
                "Connections closed for a PROXY header from an untrusted peer, of a version not accepted, or malformed");
        return this;
    }

    /**
     * The fleet's rate-limit store, read when scraped: whether Redis answers now, the requests
     * decided without it because it did not, and its failed commands.
     */
    public BalancerMetrics bindRateLimitStore(BooleanSupplier up, LongSupplier fallbacks, LongSupplier failures) {
        requireNonNull(up, "up");
        gauge(RATE_LIMIT_STORE_UP, () -> up.getAsBoolean() ? 1 : 0, "up",
                "1 while the rate limits' Redis answers, 0 while each balancer decides alone");
        counter(RATE_LIMIT_STORE_FALLBACKS, fallbacks, "fallbacks",
                "Requests under a store: redis rate limit decided without Redis, because it was unreachable");
        counter(RATE_LIMIT_STORE_FAILURES, failures, "failures",
                "Commands to the rate limits' Redis that failed: refused while disconnected, timed out, errors");
        return this;
    }

    /**
     * Who may use the balancer and how much it sends, read when scraped: requests answered by an
     * access check instead of a backend, and responses refused or cut past max-response-bytes.
     */
    public BalancerMetrics bindAccess(LongSupplier accessRefused, LongSupplier responsesTooLarge) {
        counter(ACCESS_REFUSED, accessRefused, "accessRefused", "Requests refused by client-networks, basic-auth,"
                + " forward-auth or a CORS preflight (403, 401, or the auth service's answer)");
        counter(RESPONSES_TOO_LARGE, responsesTooLarge, "responsesTooLarge",
                "Responses past max-response-bytes: refused with 502 at their head, or cut");
        return this;
    }

    /** Backend connections open, idle or busy, read when scraped. */
    public BalancerMetrics bindBackendConnections(IntSupplier openConnections) {
        gauge(BACKEND_CONNECTIONS, openConnections, "openConnections", "Connections open to backends, idle or busy");
        return this;
    }

    /** Access-log lines dropped because the writer fell behind or the output refused them, read when scraped. */
    public BalancerMetrics bindAccessLogDrops(LongSupplier dropped) {
        counter(ACCESS_LOG_DROPPED, dropped, "dropped",
                "Access-log lines dropped because the writer fell behind or the output refused them");
        return this;
    }

    /** The socket transport: {@code fulcrum_transport_info{transport="io_uring"} 1}, set once at start. */
    public BalancerMetrics transport(String name) {
        Gauge.builder(TRANSPORT_INFO, this, m -> 1).tag("transport", requireNonNull(name, "name"))
                .description("The socket transport the balancer runs on (always 1)").register(registry);
        return this;
    }

    /**
     * The config in force: {@code fulcrum_config_info{hash="..."} 1}, the hash being the one
     * {@code /config/status} shows. Called at start and after every applied reload.
     */
    public synchronized BalancerMetrics configLoaded(String hash) {
        requireNonNull(hash, "hash");
        if (hash.equals(configHash)) {
            return this;
        }
        if (configInfo != null) {
            registry.remove(configInfo);
        }
        configHash = hash;
        configInfo = Gauge.builder(CONFIG_INFO, this, m -> 1).tag(TAG_HASH, hash)
                .description("The config in force, by its hash (always 1)").register(registry);
        return this;
    }

    /** The hash of the config in force, as in {@code fulcrum_config_info}. */
    public synchronized String configHash() {
        return configHash;
    }

    /**
     * Binds the per-backend meters to the registry's current snapshot and re-binds them on every
     * later snapshot.
     */
    public BalancerMetrics bindBackends(BackendRegistry backends) {
        return bindPool(io.fulcrum.balancer.config.PoolConfig.DEFAULT, backends);
    }

    /**
     * Binds the per-backend meters of the pool {@code pool} to its registry's current snapshot and
     * re-binds them on every later snapshot, until {@link #unbindPool}.
     */
    public BalancerMetrics bindPool(String pool, BackendRegistry backends) {
        pools.bind(pool, backends);
        return this;
    }

    /**
     * Binds the meters of the pool {@code pool}'s queue (length, refusals, waits); the waits are
     * recorded through the returned consumer, in nanoseconds. Removed by {@link #unbindPool}.
     */
    public LongConsumer bindQueue(String pool, IntSupplier length, LongSupplier timedOut, LongSupplier full) {
        return pools.bindQueue(pool, length, timedOut, full);
    }

    /** Removes the meters of a pool that a reload removed. */
    public void unbindPool(String pool) {
        pools.unbind(pool);
    }

    /**
     * Binds the failed TLS handshakes, one series per reason (each present from the start, also
     * without a TLS listener, so that a query or an alert finds them).
     */
    public BalancerMetrics bindTlsHandshakeFailures(List<String> reasons, ToLongFunction<String> count) {
        for (String reason : reasons) {
            // The meter holds its state weakly: the reason is kept here.
            FunctionCounter.builder(TLS_HANDSHAKE_FAILURES, functions.keep(reason), count::applyAsLong).tag(TAG_REASON, reason)
                    .description("Failed TLS handshakes on the HTTPS listener, by reason").register(registry);
        }
        return this;
    }

    /** OCSP stapling, read when scraped: responses taken, fetches that failed, certificates stapled now. */
    public BalancerMetrics bindOcsp(LongSupplier fetched, LongSupplier failures, IntSupplier stapled) {
        counter(OCSP_FETCHED, fetched, "fetched", "OCSP responses fetched from the certificates' responders and stapled");
        counter(OCSP_FAILURES, failures, "failures",
                "OCSP fetches that failed (no answer, an error, a response that did not check)");
        gauge(OCSP_STAPLED, stapled, "stapled", "Certificates of the HTTPS listener with a valid OCSP staple now");
        return this;
    }

    /**
     * Registers a counter of what {@code source} counted so far, read when scraped; a null source
     * fails with {@code argument}, its name among the caller's parameters.
     */
    private void counter(String name, LongSupplier source, String argument, String description) {
        functions.counter(name, requireNonNull(source, argument), description);
    }

    /** Registers a gauge of what {@code source} holds now, read when scraped; a null source as {@link #counter}. */
    private void gauge(String name, IntSupplier source, String argument, String description) {
        functions.gauge(name, requireNonNull(source, argument), description);
    }

    /** Counts one reload attempt. */
    public void reloadSucceeded() {
        reloadSuccess.increment();
    }

    /** Counts one rejected reload. */
    public void reloadFailed() {
        reloadFailure.increment();
    }

    /** Releases the GC listener. Meters stay in the registry until it is closed. */
    @Override
    public void close() {
        gcMetrics.close();
    }
}
