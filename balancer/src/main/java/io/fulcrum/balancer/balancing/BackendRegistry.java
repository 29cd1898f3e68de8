package io.fulcrum.balancer.balancing;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.RoutingConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * Holds the current {@link BackendSnapshot}. Reads are lock-free; {@link #update} and
 * {@link #refresh} run on the control thread, build a new snapshot and swap it. Listeners are
 * called after the swap, outside any lock.
 */
public final class BackendRegistry {
    private final AtomicReference<BackendSnapshot> current = new AtomicReference<>();
    private final List<Consumer<BackendSnapshot>> listeners = new CopyOnWriteArrayList<>();
    private final NanoClock clock;
    private final RandomGenerator random;
    private volatile String localRegion;
    private volatile RoutingConfig routing;

    public BackendRegistry(String localRegion, RoutingConfig routing, List<BackendConfig> backends) {
        this(localRegion, routing, backends, NanoClock.SYSTEM, new ThreadLocalRandomSource());
    }

    /**
     * A registry on an explicit clock and random source, for tests and benchmarks. The random source
     * must be thread-safe if selections run on several threads.
     */
    public BackendRegistry(String localRegion, RoutingConfig routing, List<BackendConfig> backends,
            NanoClock clock, RandomGenerator random) {
        this.clock = requireNonNull(clock, "clock");
        this.random = requireNonNull(random, "random");
        update(localRegion, routing, backends);
    }

    /** The balancer's own region, the one a request without a region header is from. */
    public String localRegion() {
        return localRegion;
    }

    /** The snapshot in force. */
    public BackendSnapshot current() {
        return current.get();
    }

    /**
     * Replaces the pool; backends whose id stays keep their live state. A backend added to a running
     * pool starts in slow start, like one that recovers; the first pool does not (all start equal), nor
     * the first backends of a pool that had none (a discovered pool's first answer): with nothing
     * beside them, a ramp would shift no share.
     */
    public void update(String localRegion, RoutingConfig routing, List<BackendConfig> configs) {
        notifyListeners(rebuild(localRegion, routing, configs));
    }

    private synchronized BackendSnapshot rebuild(String localRegion, RoutingConfig routing,
            List<BackendConfig> configs) {
        this.localRegion = requireNonNull(localRegion, "localRegion");
        this.routing = requireNonNull(routing, "routing");
        BackendSnapshot old = current.get();
        Map<String, Backend> previous = new HashMap<>();
        if (old != null) {
            old.backends().forEach(b -> previous.put(b.id(), b));
        }
        List<Backend> backends = new ArrayList<>(configs.size());
        for (BackendConfig config : configs) {
            Backend before = previous.get(config.id());
            BackendState state;
            if (before != null) {
                state = before.state();
            } else {
                state = new BackendState(clock);
                if (old != null && !old.backends().isEmpty()) {
                    state.markRecovered(clock.nanoTime());
                }
            }
            backends.add(new Backend(config, state));
        }
        return swap(old, backends);
    }

    /** Rebuilds the load balancer after backend flags changed (health, ejection, drain). */
    public void refresh() {
        notifyListeners(rebuild());
    }

    private synchronized BackendSnapshot rebuild() {
        BackendSnapshot old = current.get();
        return swap(old, old.backends());
    }

    /** Panic-mode selections since this registry was created; see {@link LoadBalancer#panicSelections()}. */
    public long panicSelections() {
        return current.get().loadBalancer().panicSelections();
    }

    public void subscribe(Consumer<BackendSnapshot> listener) {
        listeners.add(listener);
    }

    private BackendSnapshot swap(BackendSnapshot old, List<Backend> backends) {
        LoadBalancer previous = old == null ? null : old.loadBalancer();
        LoadBalancer lb = LoadBalancerFactory.create(localRegion, routing, backends, previous, clock, random);
        BackendSnapshot next = new BackendSnapshot(old == null ? 1 : old.generation() + 1, backends, lb);
        current.set(next);
        return next;
    }

    /**
     * Outside the lock (Armeria): a slow listener never blocks the next rebuild. Listeners may see
     * snapshots out of order if two threads rebuild at once; each carries its generation.
     */
    private void notifyListeners(BackendSnapshot next) {
        for (Consumer<BackendSnapshot> listener : listeners) {
            listener.accept(next);
        }
    }
}
