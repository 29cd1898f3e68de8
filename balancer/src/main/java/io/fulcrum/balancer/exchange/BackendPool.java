package io.fulcrum.balancer.exchange;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.BackendSnapshot;
import io.fulcrum.balancer.balancing.OutcomeListener;

/**
 * One named pool as the request path sees it: its backends (the registry and its snapshots), the
 * outcome listener that ejects its outliers, its retry budget, its request-path settings
 * (retries, response timeout, queue wait) and the queue of its requests waiting for a backend
 * below max-in-flight. A request's tries all stay in the pool its route chose.
 *
 * <p>Thread-safe: the settings are an immutable record behind a volatile field, swapped whole by
 * a reload; everything else is thread-safe itself.
 */
public final class BackendPool {
    private final String name;
    private final BackendRegistry registry;
    private final RetryBudget retryBudget;
    private final OutcomeListener outcomeListener;
    private final AdmissionQueue queue = new AdmissionQueue();
    /** The time to a response head of the hedging routes' requests, for {@code hedge.delay: p95}. */
    private final HeadLatencies headLatencies = new HeadLatencies();
    private volatile ProxySettings settings;

    public BackendPool(String name, BackendRegistry registry, RetryBudget retryBudget, OutcomeListener outcomeListener,
            ProxySettings settings) {
        this.name = requireNonNull(name, "name");
        this.registry = requireNonNull(registry, "registry");
        this.retryBudget = requireNonNull(retryBudget, "retryBudget");
        this.outcomeListener = requireNonNull(outcomeListener, "outcomeListener");
        this.settings = requireNonNull(settings, "settings");
        // A new snapshot may bring room at once (backends added, back up, undrained, or a larger
        // max-in-flight) without any request ending: waiters get turns for it.
        registry.subscribe(snapshot -> queue.slotsFreed(freeSlots(snapshot)));
    }

    /** Slots free now at the routable backends of {@code snapshot}; an estimate, counters move. */
    private int freeSlots(BackendSnapshot snapshot) {
        if (queue.isEmpty()) {
            return 0;
        }
        long free = 0;
        for (Backend b : snapshot.backends()) {
            if (b.state().routable()) {
                free += Math.max(0, b.maxInFlight() - b.state().inFlight());
            }
        }
        return (int) Math.min(free, queue.length());
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

    /** The requests waiting for a backend of this pool below its max-in-flight. */
    public AdmissionQueue queue() {
        return queue;
    }

    /** The observed time to a response head of the requests of routes that hedge to this pool. */
    HeadLatencies headLatencies() {
        return headLatencies;
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
