package io.fulcrum.balancer.exchange;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.accesslog.AccessLog;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.balancing.OutcomeListener;
import io.fulcrum.balancer.config.PoolConfig;
import io.fulcrum.balancer.connections.ConnectionPool;
import io.fulcrum.balancer.edge.ClientConnectionCounts;
import io.fulcrum.balancer.metrics.RequestMetrics;
import io.fulcrum.balancer.route.Route;
import io.fulcrum.balancer.route.Router;
import io.fulcrum.balancer.tls.HandshakeFailures;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every proxied connection shares: the router and its pools, the connection pool, the
 * settings in force, the access log, the request meters and the clock. What changes afterwards is
 * swapped whole by a reload: the settings record ({@link #apply}) and the router with the pools
 * it sends to ({@link #apply(Router)}); and the drain flag.
 *
 * <p>{@link #firstPool()} is the pool the context was made with (the pool {@code default} of a
 * file without {@code pools}); {@link #retryBudget()} is its retry budget.
 *
 * <p>Thread-safe: settings and router are immutable behind volatile fields, everything else is
 * thread-safe itself.
 */
public final class ProxyContext {
    private final BackendPool firstPool;
    private final ConnectionPool pool;
    private final AccessLog accessLog;
    private final RequestMetrics requestMetrics;
    private final NanoClock clock;
    private final ChannelGroup clientChannels =
            new DefaultChannelGroup("client-connections", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger clientConnections = new AtomicInteger();
    private final LongAdder rateLimited = new LongAdder();
    private final LongAdder accessRefused = new LongAdder();
    private final LongAdder responsesTooLarge = new LongAdder();
    private final LongAdder proxyHeadersRefused = new LongAdder();
    private final HandshakeFailures handshakeFailures = new HandshakeFailures(NanoClock.SYSTEM);
    private final LongAdder headTimeouts = new LongAdder();
    private final ClientConnectionCounts perClient = new ClientConnectionCounts();
    private volatile ProxySettings settings;
    private volatile Router<BackendPool> router;
    private volatile boolean draining;

    /**
     * @param requestMetrics the client request meters, or {@code null} when metrics are off
     * @param clock the clock of deadlines and timings on the request path
     */
    public ProxyContext(BackendRegistry registry, ConnectionPool pool, ProxySettings settings,
            RetryBudget retryBudget, OutcomeListener outcomeListener, AccessLog accessLog,
            RequestMetrics requestMetrics, NanoClock clock) {
        this(new BackendPool(PoolConfig.DEFAULT, registry, retryBudget, outcomeListener, settings), pool, settings,
                accessLog, requestMetrics, clock);
    }

    /**
     * A context whose router sends every request to {@code first} until {@link #apply(Router)}
     * installs another.
     *
     * @param requestMetrics the client request meters, or {@code null} when metrics are off
     * @param clock the clock of deadlines and timings on the request path
     */
    public ProxyContext(BackendPool first, ConnectionPool pool, ProxySettings settings, AccessLog accessLog,
            RequestMetrics requestMetrics, NanoClock clock) {
        this.firstPool = requireNonNull(first, "first");
        this.router = Router.everythingTo(first);
        this.pool = requireNonNull(pool, "pool");
        this.settings = requireNonNull(settings, "settings");
        this.accessLog = requireNonNull(accessLog, "accessLog");
        this.requestMetrics = requestMetrics;
        this.clock = requireNonNull(clock, "clock");
        declareRoutes(router);
    }

    /** The clock of deadlines and timings on the request path. */
    public NanoClock clock() {
        return clock;
    }

    /** The routes and pools in force, read once per request. */
    public Router<BackendPool> router() {
        return router;
    }

    /** Puts a reloaded config's routes (and through them its pools) in force for new requests. */
    public void apply(Router<BackendPool> next) {
        declareRoutes(next);
        this.router = requireNonNull(next, "next");
    }

    private void declareRoutes(Router<BackendPool> next) {
        if (requestMetrics != null) {
            for (Route<BackendPool> r : next.routes()) {
                if (r.pools().isEmpty()) {
                    requestMetrics.declareRoute(r.name(), null);
                }
                for (BackendPool p : r.pools()) {
                    requestMetrics.declareRoute(r.name(), p.name());
                }
                if (r.mirrorPool() != null) {
                    requestMetrics.declareMirror(r.name(), r.mirrorPool().name(), Mirror.RESULTS);
                }
                if (r.hedge() != null) {
                    for (BackendPool p : r.pools()) {
                        requestMetrics.declareHedge(r.name(), p.name(), Hedge.RESULTS);
                    }
                }
            }
        }
    }

    public ConnectionPool pool() {
        return pool;
    }

    /** The client request meters, or {@code null} when metrics are off. */
    public RequestMetrics requestMetrics() {
        return requestMetrics;
    }

    /** The settings in force, read once per request. */
    public ProxySettings settings() {
        return settings;
    }

    /**
     * Puts a reloaded config's request-path settings in force at once: new requests read them,
     * requests in progress keep the ones they started with, connections already open stay open.
     */
    public void apply(ProxySettings next) {
        requireNonNull(next, "next");
        if (next.rateLimits() != null && settings.rateLimits() != null) {
            // The same limits keep their buckets, so a reload is no way around them.
            next = next.withRateLimits(next.rateLimits().keeping(settings.rateLimits()));
        }
        this.settings = next;
    }

    /** Counts a request refused by a rate limit. */
    void rateLimitedRequest() {
        rateLimited.increment();
    }

    /** Requests refused by a rate limit since start. */
    public long rateLimited() {
        return rateLimited.sum();
    }

    /** Counts a request answered by an access check (client networks, authentication, CORS preflight). */
    void refusedByAccess() {
        accessRefused.increment();
    }

    /** Requests answered by an access check instead of a backend since start. */
    public long accessRefused() {
        return accessRefused.sum();
    }

    /** Counts a response refused or cut for {@code max-response-bytes}. */
    void tooLargeResponse() {
        responsesTooLarge.increment();
    }

    /** Responses refused (502) or cut for {@code max-response-bytes} since start. */
    public long responsesTooLarge() {
        return responsesTooLarge.sum();
    }

    /** Counts a connection closed for a PROXY header it may not send. */
    public void proxyHeaderRefused() {
        proxyHeadersRefused.increment();
    }

    /** Failed TLS handshakes on the HTTPS listener: their counts and sampled log. */
    public HandshakeFailures handshakeFailures() {
        return handshakeFailures;
    }

    /** Connections closed since start for a PROXY header they may not send. */
    public long proxyHeadersRefused() {
        return proxyHeadersRefused.sum();
    }

    /**
     * Counts a connection closed because a request head, or what comes before the first (the
     * PROXY header, the TLS handshake), was not complete in time.
     */
    public void headTimedOut() {
        headTimeouts.increment();
    }

    /** Connections closed since start because a request head was not complete within request-head. */
    public long headTimeouts() {
        return headTimeouts.sum();
    }

    public AccessLog accessLog() {
        return accessLog;
    }

    /** The first pool's retry budget. */
    public RetryBudget retryBudget() {
        return firstPool.retryBudget();
    }

    /** The pool the context was made with. */
    public BackendPool firstPool() {
        return firstPool;
    }

    /**
     * Admits a new client connection, or returns {@code false} when {@code max-connections} are
     * open already. An admitted channel is tracked until it closes.
     */
    public boolean admit(Channel client) {
        if (clientConnections.incrementAndGet() > settings.maxConnections()) {
            clientConnections.decrementAndGet();
            return false;
        }
        clientChannels.add(client);
        client.closeFuture().addListener(f -> clientConnections.decrementAndGet());
        return true;
    }

    /**
     * Admits a new client connection from {@code address} under {@code limits.connections-per-client},
     * or returns {@code false} (and counts it) when that many are open from there already. An
     * admitted connection is counted until it closes.
     */
    public boolean admitClient(Channel client, InetAddress address) {
        int cap = settings.connectionsPerClient();
        if (cap == 0) {
            return true;
        }
        if (!perClient.tryOpen(address, cap)) {
            return false;
        }
        client.closeFuture().addListener(f -> perClient.close(address));
        return true;
    }

    /** Connections refused since start under {@code limits.connections-per-client}. */
    public long perClientRefused() {
        return perClient.refused();
    }

    /** Client addresses with a connection counted under {@code limits.connections-per-client} now. */
    public int perClientAddresses() {
        return perClient.addresses();
    }

    /** Client connections open now. */
    public int clientConnections() {
        return clientConnections.get();
    }

    /** Every open client connection (for shutdown). */
    public ChannelGroup clientChannels() {
        return clientChannels;
    }

    /**
     * Once set, every connection closes after its current response and idle ones close at once;
     * used by graceful shutdown.
     */
    public void startDraining() {
        draining = true;
    }

    public boolean draining() {
        return draining;
    }
}
