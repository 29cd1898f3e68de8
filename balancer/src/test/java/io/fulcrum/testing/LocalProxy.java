package io.fulcrum.testing;

import io.fulcrum.balancer.accesslog.AccessLog;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.balancing.OutcomeListener;
import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.RoutingConfig;
import io.fulcrum.balancer.config.SpilloverConfig;
import io.fulcrum.balancer.connections.ConnectionPool;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.fulcrum.balancer.exchange.ProxySettings;
import io.fulcrum.balancer.exchange.RetryBudget;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The proxy of the tests that run an exchange, a try or a frontend without sockets: backends of
 * one region, {@code local}, on 127.0.0.1, picked round robin, and a {@link ProxyContext} over a
 * connection pool the test supplies (usually an {@code EmbeddedBackendPool}). Stateless.
 */
public final class LocalProxy {
    /** Round robin, no spill-over to other regions, no slow start. */
    public static final RoutingConfig ROUND_ROBIN = new RoutingConfig(RoutingConfig.Policy.ROUND_ROBIN, null,
            new SpilloverConfig(0.8, List.of()), Duration.ZERO);

    private LocalProxy() {
    }

    /**
     * What these tests run with unless they test a setting: 30 s for the response, no per-try
     * deadline, 2 retries, 64 KiB of body kept for a replay, a 20% retry budget, 100 connections.
     */
    public static ProxySettings settings(long maxBodyBytes) {
        return new ProxySettings(null, null, TimeUnit.SECONDS.toNanos(30), 0, maxBodyBytes, 2, 65536, 20, 100);
    }

    /** Backend {@code id} at 127.0.0.1:{@code port} in region {@code local}, weight 1. */
    public static BackendConfig backend(String id, int port, int maxInFlight) {
        return new BackendConfig(id, "127.0.0.1", port, "local", 1, maxInFlight);
    }

    /** Backends {@code b1}, {@code b2}, ... at ports 9001, 9002, ..., 100 requests each at most. */
    public static BackendConfig[] backends(int count) {
        BackendConfig[] backends = new BackendConfig[count];
        for (int i = 0; i < count; i++) {
            backends[i] = backend("b" + (i + 1), 9001 + i, 100);
        }
        return backends;
    }

    /** A registry of region {@code local} holding {@code backends}, on {@code clock}, its random seeded. */
    public static BackendRegistry registry(NanoClock clock, BackendConfig... backends) {
        return new BackendRegistry("local", ROUND_ROBIN, List.of(backends), clock, new SplittableRandom(1));
    }

    /**
     * A context over backends {@code b1} to {@code b<count>} ({@link #backends}) on the system clock,
     * outcomes unrecorded: for the frontend tests, which look at what reaches the backends.
     */
    public static ProxyContext context(ConnectionPool pool, ProxySettings settings, int count) {
        BackendRegistry registry = registry(NanoClock.SYSTEM, backends(count));
        return context(registry, pool, settings, OutcomeListener.NOOP, NanoClock.SYSTEM);
    }

    /** A context over {@code registry} and {@code pool} with a fresh retry budget and no access log or metrics. */
    public static ProxyContext context(BackendRegistry registry, ConnectionPool pool, ProxySettings settings,
            OutcomeListener outcomes, NanoClock clock) {
        return new ProxyContext(registry, pool, settings, new RetryBudget(), outcomes, AccessLog.OFF, null, clock);
    }
}
