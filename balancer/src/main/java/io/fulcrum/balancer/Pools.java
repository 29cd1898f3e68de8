package io.fulcrum.balancer;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.PoolConfig;
import io.fulcrum.balancer.connections.Transport;
import io.fulcrum.balancer.exchange.BackendPool;
import io.fulcrum.balancer.exchange.ProxySettings;
import io.fulcrum.balancer.exchange.RetryBudget;
import io.fulcrum.balancer.health.HealthCheckScheduler;
import io.fulcrum.balancer.health.HealthTracker;
import io.fulcrum.balancer.health.GrpcHealthChecker;
import io.fulcrum.balancer.health.HttpHealthChecker;
import io.fulcrum.balancer.health.OutlierDetector;
import io.fulcrum.balancer.route.Router;
import io.fulcrum.balancer.tls.BackendTls;
import io.netty.channel.EventLoopGroup;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The live pools of a balancer: per pool its backend registry, health checks, outlier detector,
 * retry budget and request-path view ({@link BackendPool}), built from one config and brought in
 * line with each reloaded one: pools that stay keep their live state and get the new backends and
 * settings (added backends slow-start, removed ones drain), new pools start their health checks,
 * and pools no longer named stop theirs (requests in flight finish on the backends they hold).
 *
 * <p>Built on the main thread; {@link #apply} runs on the control thread only. The map of pools
 * is an immutable snapshot behind a volatile field, so readers on other threads (admin, metrics)
 * see a whole one.
 */
final class Pools implements AutoCloseable {
    /** One pool's live parts. */
    record Live(PoolConfig config, BackendRegistry registry, OutlierDetector outlier, HealthCheckScheduler health,
            BackendPool proxy) {
    }

    private final ScheduledExecutorService control;
    private final EventLoopGroup healthGroup;
    private final Transport transport;
    private final BackendTls backendTls;
    private final Function<PoolConfig, List<BackendConfig>> backends;
    private final List<Consumer<Live>> onAdded = new ArrayList<>();
    private final List<Consumer<Live>> onRemoved = new ArrayList<>();
    private volatile Map<String, Live> pools = Map.of();
    private boolean started;

    Pools(BalancerConfig config, ScheduledExecutorService control, EventLoopGroup healthGroup, Transport transport) {
        this(config, control, healthGroup, transport, PoolConfig::backends);
    }

    /**
     * @param backends a pool's backends: its static list, or what discovery found for it
     */
    Pools(BalancerConfig config, ScheduledExecutorService control, EventLoopGroup healthGroup, Transport transport,
            Function<PoolConfig, List<BackendConfig>> backends) {
        this.backends = requireNonNull(backends, "backends");
        this.control = requireNonNull(control, "control");
        this.healthGroup = requireNonNull(healthGroup, "healthGroup");
        this.transport = requireNonNull(transport, "transport");
        this.backendTls = new BackendTls(config.backendTls());
        Map<String, Live> built = new LinkedHashMap<>();
        for (PoolConfig p : config.pools()) {
            built.put(p.name(), create(config, p));
        }
        pools = Collections.unmodifiableMap(built);
    }

    private Live create(BalancerConfig config, PoolConfig p) {
        BackendRegistry registry = new BackendRegistry(config.region(), p.routing(), p.withProtocol(backends.apply(p)));
        OutlierDetector outlier = new OutlierDetector(registry, p.outlier(), control, NanoClock.SYSTEM);
        HealthTracker tracker = new HealthTracker(p.health().rise(), p.health().fall());
        tracker.subscribe(outlier::onHealthTransition);
        HealthCheckScheduler health = new HealthCheckScheduler(registry,
                p.health().grpc()
                        ? new GrpcHealthChecker(healthGroup, transport.socketChannel(), p.health().grpcService(),
                                p.health().timeout(), backendTls)
                        : new HttpHealthChecker(healthGroup, transport.socketChannel(), p.health().path(),
                                p.health().timeout(), backendTls),
                tracker, p.health(), control, new SplittableRandom());
        BackendPool proxy = new BackendPool(p.name(), registry, new RetryBudget(), outlier, ProxySettings.from(config, p));
        return new Live(p, registry, outlier, health, proxy);
    }

    /** Called with each pool now and with each pool a reload adds. */
    void onAdded(Consumer<Live> listener) {
        onAdded.add(listener);
        pools.values().forEach(listener);
    }

    /** Called with each pool a reload removes, after its health checks stopped. */
    void onRemoved(Consumer<Live> listener) {
        onRemoved.add(listener);
    }

    /** The first pool (the pool {@code default} of a file without {@code pools}). */
    Live first() {
        return pools.values().iterator().next();
    }

    /** The pools in force, by name, in file order. */
    Map<String, Live> all() {
        return pools;
    }

    /** The registries in force, by pool name, in file order. */
    Map<String, BackendRegistry> registries() {
        Map<String, BackendRegistry> out = new LinkedHashMap<>();
        pools.forEach((name, live) -> out.put(name, live.registry()));
        return Collections.unmodifiableMap(out);
    }

    /** Compiles {@code config}'s routes onto the pools in force. */
    Router<BackendPool> router(BalancerConfig config) {
        Map<String, Live> now = pools;
        return Router.compile(config.routes(), config.defaultPool(),
                name -> now.get(name) == null ? null : now.get(name).proxy());
    }

    void start() {
        started = true;
        pools.values().forEach(p -> p.health().start());
    }

    /** Whether every pool's first round of health checks has answered. */
    boolean firstRoundComplete() {
        for (Live p : pools.values()) {
            if (!p.health().firstRoundComplete()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Brings the pools in line with {@code next} and returns its router. Health and outlier
     * settings of a pool that stays are those it started with (a restart applies them, as at the
     * top level); a new pool starts with its own.
     */
    Router<BackendPool> apply(BalancerConfig next) {
        Map<String, Live> old = pools;
        Map<String, Live> updated = new LinkedHashMap<>();
        List<Live> added = new ArrayList<>();
        for (PoolConfig p : next.pools()) {
            Live live = old.get(p.name());
            if (live == null) {
                live = create(next, p);
                added.add(live);
            } else {
                live.registry().update(next.region(), p.routing(), p.withProtocol(backends.apply(p)));
                live.proxy().apply(ProxySettings.from(next, p));
                live = new Live(p, live.registry(), live.outlier(), live.health(), live.proxy());
            }
            updated.put(p.name(), live);
        }
        pools = Collections.unmodifiableMap(updated);
        for (Live live : added) {
            onAdded.forEach(l -> l.accept(live));
            if (started) {
                live.health().start();
            }
        }
        for (Map.Entry<String, Live> e : old.entrySet()) {
            if (!updated.containsKey(e.getKey())) {
                e.getValue().health().close();
                onRemoved.forEach(l -> l.accept(e.getValue()));
            }
        }
        return router(next);
    }

    @Override
    public void close() {
        pools.values().forEach(p -> p.health().close());
    }
}
