package io.fulcrum.balancer.routing;

import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.RoutingConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Holds the current {@link BackendSnapshot}. Reads are lock-free; {@link #update} and
 * {@link #refresh} run on the control thread, build a new snapshot and swap it. Listeners are
 * called after the swap, outside any lock.
 */
public final class BackendRegistry {
    private final AtomicReference<BackendSnapshot> current = new AtomicReference<>();
    private final List<Consumer<BackendSnapshot>> listeners = new CopyOnWriteArrayList<>();
    private volatile String localRegion;
    private volatile RoutingConfig routing;

    public BackendRegistry(String localRegion, RoutingConfig routing, List<BackendConfig> backends) {
        update(localRegion, routing, backends);
    }

    /** The snapshot in force. */
    public BackendSnapshot current() {
        return current.get();
    }

    /** Replaces the pool; backends whose id stays keep their live state. */
    public synchronized void update(String localRegion, RoutingConfig routing, List<BackendConfig> configs) {
        this.localRegion = localRegion;
        this.routing = routing;
        BackendSnapshot old = current.get();
        Map<String, Backend> previous = new HashMap<>();
        if (old != null) {
            old.backends().forEach(b -> previous.put(b.id(), b));
        }
        List<Backend> backends = new ArrayList<>(configs.size());
        for (BackendConfig config : configs) {
            Backend before = previous.get(config.id());
            backends.add(new Backend(config, before == null ? new BackendState() : before.state()));
        }
        swap(old, backends);
    }

    /** Rebuilds the load balancer after backend flags changed (health, ejection, drain). */
    public synchronized void refresh() {
        BackendSnapshot old = current.get();
        swap(old, old.backends());
    }

    public void subscribe(Consumer<BackendSnapshot> listener) {
        listeners.add(listener);
    }

    private void swap(BackendSnapshot old, List<Backend> backends) {
        LoadBalancer previous = old == null ? null : old.loadBalancer();
        LoadBalancer lb = LoadBalancerFactory.create(localRegion, routing, backends, previous);
        BackendSnapshot next = new BackendSnapshot(old == null ? 1 : old.generation() + 1, backends, lb);
        current.set(next);
        for (Consumer<BackendSnapshot> listener : listeners) {
            listener.accept(next);
        }
    }
}
