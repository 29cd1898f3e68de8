package io.fulcrum.balancer.proxy;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.metrics.RequestMetrics;
import io.fulcrum.balancer.pool.ConnectionPool;
import io.fulcrum.balancer.routing.BackendRegistry;
import io.fulcrum.balancer.routing.OutcomeListener;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every proxied connection shares: the backend registry, the connection pool, the settings
 * in force, the retry budget and the outcome listener. Thread-safe: settings are an immutable
 * record behind a volatile field, everything else is thread-safe itself.
 */
public final class ProxyContext {
    private final BackendRegistry registry;
    private final RetryBudget retryBudget;
    private final OutcomeListener outcomeListener;
    private final ChannelGroup clientChannels =
            new DefaultChannelGroup("client-connections", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger clientConnections = new AtomicInteger();
    private volatile ConnectionPool pool;
    private volatile ProxySettings settings;
    private volatile int maxConnections;
    private volatile boolean draining;
    private volatile AccessLog accessLog = AccessLog.OFF;
    private volatile RequestMetrics requestMetrics;

    public ProxyContext(BackendRegistry registry, ProxySettings settings, int maxConnections,
            RetryBudget retryBudget, OutcomeListener outcomeListener) {
        this.registry = requireNonNull(registry, "registry");
        this.settings = requireNonNull(settings, "settings");
        this.maxConnections = maxConnections;
        this.retryBudget = requireNonNull(retryBudget, "retryBudget");
        this.outcomeListener = requireNonNull(outcomeListener, "outcomeListener");
    }

    public BackendRegistry registry() {
        return registry;
    }

    public ConnectionPool pool() {
        return pool;
    }

    /** Set once at start-up, before the server accepts connections. */
    public void setPool(ConnectionPool pool) {
        this.pool = requireNonNull(pool, "pool");
    }

    /** The client request meters, or {@code null} when metrics are off. */
    public RequestMetrics requestMetrics() {
        return requestMetrics;
    }

    /** Set once at start-up, before the server accepts connections. */
    public void setRequestMetrics(RequestMetrics requestMetrics) {
        this.requestMetrics = requireNonNull(requestMetrics, "requestMetrics");
    }

    public ProxySettings settings() {
        return settings;
    }

    public void setSettings(ProxySettings settings) {
        this.settings = requireNonNull(settings, "settings");
    }

    /** Applies a reloaded {@code max-connections}; connections already open stay open. */
    public void setMaxConnections(int maxConnections) {
        this.maxConnections = maxConnections;
    }

    public AccessLog accessLog() {
        return accessLog;
    }

    /** Swaps the access log; the previous one is closed by the caller. */
    public void setAccessLog(AccessLog accessLog) {
        this.accessLog = requireNonNull(accessLog, "accessLog");
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
        if (clientConnections.incrementAndGet() > maxConnections) {
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
