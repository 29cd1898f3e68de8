package io.fulcrum.balancer.proxy;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.metrics.RequestMetrics;
import io.fulcrum.balancer.pool.ConnectionPool;
import io.fulcrum.balancer.ratelimit.RateLimiter;
import io.fulcrum.balancer.routing.BackendRegistry;
import io.fulcrum.balancer.routing.NanoClock;
import io.fulcrum.balancer.routing.OutcomeListener;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every proxied connection shares: the backend registry, the connection pool, the settings
 * in force, the retry budget, the outcome listener, the access log, the request meters and the
 * clock. Everything is given at construction; the only thing that changes afterwards is the
 * settings record, swapped whole by a reload ({@link #apply}), and the drain flag.
 *
 * <p>Thread-safe: settings are an immutable record behind a volatile field, everything else is
 * thread-safe itself.
 */
public final class ProxyContext {
    private final BackendRegistry registry;
    private final ConnectionPool pool;
    private final RetryBudget retryBudget;
    private final OutcomeListener outcomeListener;
    private final AccessLog accessLog;
    private final RequestMetrics requestMetrics;
    private final NanoClock clock;
    private final ChannelGroup clientChannels =
            new DefaultChannelGroup("client-connections", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger clientConnections = new AtomicInteger();
    private final LongAdder rateLimited = new LongAdder();
    private final LongAdder proxyHeadersRefused = new LongAdder();
    private volatile ProxySettings settings;
    private volatile boolean draining;

    /**
     * @param requestMetrics the client request meters, or {@code null} when metrics are off
     * @param clock the clock of deadlines and timings on the request path
     */
    public ProxyContext(BackendRegistry registry, ConnectionPool pool, ProxySettings settings,
            RetryBudget retryBudget, OutcomeListener outcomeListener, AccessLog accessLog,
            RequestMetrics requestMetrics, NanoClock clock) {
        this.registry = requireNonNull(registry, "registry");
        this.pool = requireNonNull(pool, "pool");
        this.settings = requireNonNull(settings, "settings");
        this.retryBudget = requireNonNull(retryBudget, "retryBudget");
        this.outcomeListener = requireNonNull(outcomeListener, "outcomeListener");
        this.accessLog = requireNonNull(accessLog, "accessLog");
        this.requestMetrics = requestMetrics;
        this.clock = requireNonNull(clock, "clock");
    }

    /** The clock of deadlines and timings on the request path. */
    public NanoClock clock() {
        return clock;
    }

    public BackendRegistry registry() {
        return registry;
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
        RateLimiter old = settings.rateLimiter();
        if (old != null && next.rateLimiter() != null && old.config().equals(next.rateLimiter().config())) {
            // The same limit: its buckets go on, so a reload is no way around it.
            next = next.withRateLimiter(old);
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

    /** Counts a connection closed for a PROXY header it may not send. */
    void proxyHeaderRefused() {
        proxyHeadersRefused.increment();
    }

    /** Connections closed since start for a PROXY header they may not send. */
    public long proxyHeadersRefused() {
        return proxyHeadersRefused.sum();
    }

    public AccessLog accessLog() {
        return accessLog;
    }

    public RetryBudget retryBudget() {
        return retryBudget;
    }

    public OutcomeListener outcomeListener() {
        return outcomeListener;
    }

    /**
     * Admits a new client connection, or returns {@code false} when {@code max-connections} are
     * open already. An admitted channel is tracked until it closes.
     */
    boolean admit(Channel client) {
        if (clientConnections.incrementAndGet() > settings.maxConnections()) {
            clientConnections.decrementAndGet();
            return false;
        }
        clientChannels.add(client);
        client.closeFuture().addListener(f -> clientConnections.decrementAndGet());
        return true;
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
