package io.fulcrum.balancer.proxy;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.routing.BackendRegistry;
import io.fulcrum.balancer.routing.OutcomeListener;

/**
 * One named pool as the request path sees it: its backends (the registry and its snapshots), the
 * outcome listener that ejects its outliers, its retry budget and its request-path settings
 * (retries and response timeout). A request's tries all stay in the pool its route chose.
 *
 * <p>Thread-safe: the settings are an immutable record behind a volatile field, swapped whole by
 * a reload; everything else is thread-safe itself.
 */
public final class ProxyPool {
    private final String name;
    private final BackendRegistry registry;
    private final RetryBudget retryBudget;
    private final OutcomeListener outcomeListener;
    private volatile ProxySettings settings;

    public ProxyPool(String name, BackendRegistry registry, RetryBudget retryBudget, OutcomeListener outcomeListener,
            ProxySettings settings) {
        this.name = requireNonNull(name, "name");
        this.registry = requireNonNull(registry, "registry");
        this.retryBudget = requireNonNull(retryBudget, "retryBudget");
        this.outcomeListener = requireNonNull(outcomeListener, "outcomeListener");
        this.settings = requireNonNull(settings, "settings");
    }

    public String name() {
        return name;
    }

    public BackendRegistry registry() {
        return registry;
    }

    public RetryBudget retryBudget() {
        return retryBudget;
    }

    public OutcomeListener outcomeListener() {
        return outcomeListener;
    }

    /** The settings of requests routed to this pool, read once per request. */
    public ProxySettings settings() {
        return settings;
    }

    /** Puts a reloaded config's settings for this pool in force for new requests. */
    public void apply(ProxySettings next) {
        this.settings = requireNonNull(next, "next");
    }

    @Override
    public String toString() {
        return "pool " + name;
    }
}
