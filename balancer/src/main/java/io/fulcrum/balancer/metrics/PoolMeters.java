package io.fulcrum.balancer.metrics;

import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKENDS;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_DRAINING;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_EJECTED;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_EJECTIONS;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_ERRORS;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_HEALTHY;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_HOLD_DOWNS;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_IN_FLIGHT;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_LATENCY_EWMA;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_LOAD_REPORTED;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_POOL;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_REQUESTS;
import static io.fulcrum.balancer.metrics.BalancerMetrics.BACKEND_ROUTABLE;
import static io.fulcrum.balancer.metrics.BalancerMetrics.POOL_BACKENDS;
import static io.fulcrum.balancer.metrics.BalancerMetrics.QUEUE_LENGTH;
import static io.fulcrum.balancer.metrics.BalancerMetrics.QUEUE_REFUSED;
import static io.fulcrum.balancer.metrics.BalancerMetrics.QUEUE_WAIT;
import static io.fulcrum.balancer.metrics.BalancerMetrics.RETRIES_ACTIVE;
import static io.fulcrum.balancer.metrics.BalancerMetrics.RETRY_BUDGET_REFUSED;
import static io.fulcrum.balancer.metrics.BalancerMetrics.ROUTING_PANIC;
import static io.fulcrum.balancer.metrics.BalancerMetrics.ROUTING_SPILLOVER;
import static io.fulcrum.balancer.metrics.BalancerMetrics.TAG_BACKEND;
import static io.fulcrum.balancer.metrics.BalancerMetrics.TAG_FROM;
import static io.fulcrum.balancer.metrics.BalancerMetrics.TAG_POOL;
import static io.fulcrum.balancer.metrics.BalancerMetrics.TAG_REASON;
import static io.fulcrum.balancer.metrics.BalancerMetrics.TAG_TO;
import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.BackendSnapshot;
import io.fulcrum.balancer.balancing.BackendState;
import io.fulcrum.balancer.balancing.RoutingCounters;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The meters of each pool and of its backends: every backend's gauges and counters, bound to the
 * pool's snapshot and bound anew on every later snapshot (a backend whose state object is kept
 * keeps its meters), the pool's spill-over and panic counters, its retry budget and its queue;
 * all of a pool's meters removed together when a reload removes it. The names are
 * {@link BalancerMetrics}'s.
 *
 * <p>Thread-safe: binding, re-binding (on the control thread that publishes snapshots) and
 * unbinding hold this object's lock; the meters themselves are read by the scrape.
 */
final class PoolMeters {
    private static final String QUEUE_REFUSED_DESCRIPTION =
            "Requests answered 503 by the pool's queue: their wait ran out, or the queue was full";
    private final MeterRegistry registry;
    private final FunctionMeters functions;
    private final RequestMetrics requests;
    /**
     * Spill-over and panic counters already bound, per pool, so that each is registered once: each
     * pool has counters of its own, and two pools count the same pair of regions apart.
     */
    private final Map<BoundRoute, RouteMeter> boundRoutes = new HashMap<>();
    /** Per pool, per backend id: the meters bound to its state. */
    private final Map<String, Map<String, BoundBackend>> boundPools = new HashMap<>();
    /** The registries bound, by pool name, for the gauges of all pools together. */
    private final Map<String, BackendRegistry> poolRegistries = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, Gauge> poolGauges = new HashMap<>();
    /** Per pool: the meters of its retry budget. */
    private final Map<String, List<Meter>> retryMeters = new HashMap<>();
    /** Per pool: the meters of its queue. */
    private final Map<String, List<Meter>> queueMeters = new HashMap<>();
    private boolean backendsGauge;


    private record BoundBackend(BackendState state, List<Meter> meters) {
    }

    private record BoundRoute(String pool, RoutingCounters.Key key) {
    }

    /** The counter a meter reads; a pool whose load balancer brought new counters is bound anew. */
    private record RouteMeter(LongAdder adder, Meter meter) {
    }

    PoolMeters(MeterRegistry registry, FunctionMeters functions, RequestMetrics requests) {
        this.registry = requireNonNull(registry, "registry");
        this.functions = requireNonNull(functions, "functions");
        this.requests = requireNonNull(requests, "requests");
    }

    /**
     * Binds the pool {@code pool}'s retry budget, read when scraped: the retries holding one of
     * its slots now, and the retries it refused (the request got the failed try's answer). Each
     * pool has a budget of its own, so each has its series. Removed by {@link #unbind}.
     */
    synchronized void bindRetryBudget(String pool, IntSupplier activeRetries,
            LongSupplier refusedRetries) {
        requireNonNull(pool, "pool");
        requireNonNull(activeRetries, "activeRetries");
        requireNonNull(refusedRetries, "refusedRetries");
        removeAll(retryMeters.remove(pool)); // bound again: the new budget's meters, not the old one's
        List<Meter> meters = List.of(
                functions.gauge(RETRIES_ACTIVE, activeRetries,
                        "Requests currently being retried (holding a slot of the pool's retry budget)", TAG_POOL, pool),
                functions.counter(RETRY_BUDGET_REFUSED, refusedRetries, "Retries refused by the pool's retry budget",
                        TAG_POOL, pool));
        retryMeters.put(pool, meters);
    }

    /**
     * Binds the per-backend meters of the pool {@code pool} to its registry's current snapshot and
     * re-binds them on every later snapshot, until {@link #unbind}. Each backend's meters keep
     * their {@code backend} tag only; {@code fulcrum_backend_pool{backend,pool}} says which pool it
     * is in.
     */
    synchronized void bind(String pool, BackendRegistry backends) {
        requireNonNull(pool, "pool");
        requireNonNull(backends, "backends");
        boundPools.put(pool, new HashMap<>());
        poolRegistries.put(pool, backends);
        backends.subscribe(snapshot -> rebind(pool, snapshot));
        rebind(pool, backends.current());
        poolGauges.put(pool, Gauge.builder(POOL_BACKENDS, backends, r -> r.current().backends().size())
                .tag(TAG_POOL, pool).description("Backends configured in the pool").register(registry));
        if (!backendsGauge) {
            backendsGauge = true;
            Gauge.builder(BACKENDS, poolRegistries, m -> m.values().stream()
                            .mapToInt(r -> r.current().backends().size()).sum())
                    .description("Backends configured").register(registry);
        }
    }

    /**
     * Binds the meters of the pool {@code pool}'s queue: its length and refusals, read when
     * scraped, and a histogram of the waits, recorded through the returned consumer (nanoseconds)
     * as each waiter leaves the queue. Removed by {@link #unbind}.
     *
     * @param length requests waiting now
     * @param timedOut requests whose wait ran out so far
     * @param full requests refused so far because the queue was at its length
     */
    synchronized LongConsumer bindQueue(String pool, IntSupplier length, LongSupplier timedOut,
            LongSupplier full) {
        requireNonNull(pool, "pool");
        requireNonNull(length, "length");
        requireNonNull(timedOut, "timedOut");
        requireNonNull(full, "full");
        removeAll(queueMeters.remove(pool));
        List<Meter> meters = new ArrayList<>(4);
        meters.add(functions.gauge(QUEUE_LENGTH, length,
                "Requests waiting in the pool's queue for a backend below max-in-flight", TAG_POOL, pool));
        meters.add(functions.counter(QUEUE_REFUSED, timedOut, QUEUE_REFUSED_DESCRIPTION,
                TAG_POOL, pool, TAG_REASON, "timeout"));
        meters.add(functions.counter(QUEUE_REFUSED, full, QUEUE_REFUSED_DESCRIPTION, TAG_POOL, pool, TAG_REASON, "full"));
        Timer waits = Timer.builder(QUEUE_WAIT).tag(TAG_POOL, pool)
                .description("Time requests spent in the pool's queue, whether a backend took them or not")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
        meters.add(waits);
        queueMeters.put(pool, meters);
        return nanos -> waits.record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Removes the meters of a pool that a reload removed. */
    synchronized void unbind(String pool) {
        removeAll(queueMeters.remove(pool));
        removeAll(retryMeters.remove(pool));
        Map<String, BoundBackend> bound = boundPools.remove(pool);
        poolRegistries.remove(pool);
        Gauge g = poolGauges.remove(pool);
        if (g != null) {
            registry.remove(g);
        }
        boundRoutes.entrySet().removeIf(e -> {
            if (!e.getKey().pool().equals(pool)) {
                return false;
            }
            registry.remove(e.getValue().meter());
            return true;
        });
        if (bound != null) {
            bound.forEach((id, b) -> {
                b.meters().forEach(registry::remove);
                requests.forget(id);
            });
        }
    }

    private synchronized void rebind(String pool, BackendSnapshot snapshot) {
        Map<String, BoundBackend> bound = boundPools.get(pool);
        if (bound == null) {
            return; // the pool was removed
        }
        bindRoutes(pool, snapshot.loadBalancer().counters());
        Set<String> present = new HashSet<>();
        for (Backend backend : snapshot.backends()) {
            present.add(backend.id());
            BoundBackend existing = bound.get(backend.id());
            if (existing != null && existing.state() == backend.state()) {
                continue;
            }
            if (existing != null) {
                existing.meters().forEach(registry::remove);
            }
            List<Meter> meters = register(backend.id(), backend.state());
            meters.add(Gauge.builder(BACKEND_POOL, () -> 1).tag(TAG_BACKEND, backend.id()).tag(TAG_POOL, pool)
                    .description("Always 1: the pool the backend is in").register(registry));
            bound.put(backend.id(), new BoundBackend(backend.state(), meters));
            requests.declare(backend.id());
        }
        bound.entrySet().removeIf(e -> {
            if (present.contains(e.getKey())) {
                return false;
            }
            e.getValue().meters().forEach(registry::remove);
            requests.forget(e.getKey());
            return true;
        });
    }

    /** Registers the spill-over and panic counters of {@code pool} created since its last snapshot. */
    private void bindRoutes(String pool, RoutingCounters counters) {
        if (counters == null) {
            return;
        }
        counters.all().forEach((key, adder) -> {
            BoundRoute bound = new BoundRoute(pool, key);
            RouteMeter existing = boundRoutes.get(bound);
            if (existing != null && existing.adder() == adder) {
                return;
            }
            if (existing != null) {
                registry.remove(existing.meter());
            }
            boolean panic = key.kind() == RoutingCounters.Kind.PANIC;
            Meter meter = FunctionCounter.builder(panic ? ROUTING_PANIC : ROUTING_SPILLOVER, adder, LongAdder::sum)
                    .tag(TAG_POOL, pool).tag(TAG_FROM, key.from()).tag(TAG_TO, key.to())
                    .description(panic
                            ? "Selections in panic mode (no routable backend), by pool, client region and chosen"
                                    + " backend's region"
                            : "Selections that spilled to another region, by pool, client region and chosen backend's"
                                    + " region")
                    .register(registry);
            boundRoutes.put(bound, new RouteMeter(adder, meter));
        });
    }

    private List<Meter> register(String id, BackendState state) {
        List<Meter> meters = new ArrayList<>(8);
        meters.add(Gauge.builder(BACKEND_IN_FLIGHT, state, BackendState::inFlight).tag(TAG_BACKEND, id)
                .description("Requests in flight to the backend").register(registry));
        meters.add(FunctionCounter.builder(BACKEND_REQUESTS, state, BackendState::requests).tag(TAG_BACKEND, id)
                .description("Requests (tries) finished at the backend").register(registry));
        meters.add(FunctionCounter.builder(BACKEND_ERRORS, state, BackendState::errors).tag(TAG_BACKEND, id)
                .description("Tries that failed at the backend (5xx, connect failure, reset, timeout)")
                .register(registry));
        meters.add(Gauge.builder(BACKEND_HEALTHY, state, s -> s.healthy() ? 1 : 0).tag(TAG_BACKEND, id)
                .description("1 when active health checks pass").register(registry));
        meters.add(Gauge.builder(BACKEND_ROUTABLE, state, s -> s.routable() && !s.heldDown(System.nanoTime()) ? 1 : 0)
                .tag(TAG_BACKEND, id)
                .description("1 when selection may choose the backend: healthy, not ejected, draining or held down")
                .register(registry));
        meters.add(Gauge.builder(BACKEND_EJECTED, state, s -> s.ejected() ? 1 : 0).tag(TAG_BACKEND, id)
                .description("1 while ejected by outlier detection").register(registry));
        meters.add(Gauge.builder(BACKEND_DRAINING, state, s -> s.draining() ? 1 : 0).tag(TAG_BACKEND, id)
                .description("1 while drained through the admin API").register(registry));
        meters.add(Gauge.builder(BACKEND_LATENCY_EWMA, state, s -> s.latencyEwmaNanos() / 1e9)
                .tag(TAG_BACKEND, id).baseUnit("seconds")
                .description("Decaying average of the backend's time to response headers").register(registry));
        meters.add(FunctionCounter.builder(BACKEND_EJECTIONS, state, BackendState::ejections).tag(TAG_BACKEND, id)
                .description("Ejections by outlier detection").register(registry));
        meters.add(FunctionCounter.builder(BACKEND_HOLD_DOWNS, state, BackendState::holdDowns).tag(TAG_BACKEND, id)
                .description("Hold-downs after a failed connect").register(registry));
        meters.add(Gauge.builder(BACKEND_LOAD_REPORTED, state, BackendState::reportedLoad).tag(TAG_BACKEND, id)
                .description("Load the backend reports in its health response (0..1)").register(registry));
        return meters;
    }

    /**
     * Removes meters bound before; Micrometer would otherwise hand back a meter of the same name and
     * tags, still reading the object it was first bound to.
     */
    private void removeAll(List<Meter> meters) {
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }
}
