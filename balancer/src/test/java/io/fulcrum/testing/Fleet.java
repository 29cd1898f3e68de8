package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.Balancer;
import java.util.List;

/**
 * Scripted backends b1, b2, ... and the balancer started in front of them, as {@link Fixtures#fleet}
 * gives them: for tests that script what the backends do while traffic runs through the balancer.
 * Immutable (the servers in it are not).
 */
public record Fleet(Balancer balancer, List<ScriptedBackend> backends) {
    public Fleet {
        requireNonNull(balancer, "balancer");
        backends = List.copyOf(backends);
    }

    /** Backend number {@code i} counting from 0, which the balancer knows as b{@code i + 1}. */
    public ScriptedBackend backend(int i) {
        return backends.get(i);
    }

    /** The balancer's traffic port. */
    public int port() {
        return balancer.port();
    }
}
