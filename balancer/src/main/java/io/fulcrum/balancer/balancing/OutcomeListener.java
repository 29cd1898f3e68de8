package io.fulcrum.balancer.balancing;

/**
 * Told of every finished request to a backend, on the event loop that ran it. Implementations
 * must be thread-safe and must not block.
 */
@FunctionalInterface
public interface OutcomeListener {
    OutcomeListener NOOP = (backend, outcome) -> { };

    void onOutcome(Backend backend, Outcome outcome);
}
