package io.fulcrum.balancer.health;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendState;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.RoutingConfig;
import io.fulcrum.balancer.config.SpilloverConfig;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** Small builders shared by the health tests. */
final class HealthFixtures {
    private HealthFixtures() {
    }

    static BackendConfig config(String id, int port) {
        return new BackendConfig(id, "127.0.0.1", port, "local", 1, 1000);
    }

    static Backend backend(String id, int port, NanoClock clock) {
        return new Backend(config(id, port), new BackendState(clock));
    }

    static RoutingConfig routing(Duration slowStart) {
        return new RoutingConfig(RoutingConfig.Policy.LEAST_BUSY, null, new SpilloverConfig(0.8, List.of()),
                slowStart);
    }

    static HealthCheckResult ok() {
        return new HealthCheckResult(true, 200, Double.NaN, "HTTP 200 OK");
    }

    static HealthCheckResult bad() {
        return new HealthCheckResult(false, 503, Double.NaN, "HTTP 503 Service Unavailable");
    }

    /** Waits until every task queued on the single-threaded {@code executor} so far has run. */
    static void drain(ExecutorService executor) throws Exception {
        executor.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    /** A {@link NanoClock} that moves only when told. Thread-safe. */
    static final class FakeClock implements NanoClock {
        private final AtomicLong now = new AtomicLong(1_000_000_000L);

        @Override
        public long nanoTime() {
            return now.get();
        }

        void advance(Duration d) {
            now.addAndGet(d.toNanos());
        }
    }
}
