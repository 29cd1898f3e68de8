package io.fulcrum.testing;

import static org.awaitility.Awaitility.await;

import io.fulcrum.balancer.Balancer;
import java.time.Duration;

/**
 * A balancer a test has started and waited on, with the two ports it listens on: {@code admin} for
 * the admin API and {@code traffic} for the proxied requests. For the tests that drive both, as the
 * admin API and reload tests do.
 */
public record RunningBalancer(Balancer balancer, int admin, int traffic) {
    /** Starts {@code balancer} and waits at most {@code timeout} until it is ready (first health round passed). */
    public static RunningBalancer startReady(Balancer balancer, Duration timeout) throws InterruptedException {
        Balancer started = balancer.start();
        await("balancer ready").atMost(timeout).until(started::ready);
        return new RunningBalancer(started, started.adminPort(), started.port());
    }
}
