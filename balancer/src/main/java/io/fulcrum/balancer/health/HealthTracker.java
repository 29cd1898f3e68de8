package io.fulcrum.balancer.health;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a stream of check results into health flips with thresholds, so that one lost probe does
 * not take a backend out and one lucky probe does not bring a sick one back: an up backend goes
 * down after {@code fall} failed checks in a row, a down one comes up after {@code rise} passed
 * checks in a row (Envoy's {@code unhealthy_threshold} / {@code healthy_threshold}, HAProxy's
 * {@code fall} / {@code rise}).
 *
 * <p>The first check of a backend is the exception: a backend starts up (so a fresh balancer
 * serves at once), but if its very first check fails it goes down on that one failure rather
 * than after {@code fall}, so that once the first round is complete the health flags mean
 * something and readiness can rely on them (HAProxy treats its first check the same way).
 *
 * <p>On a flip it sets the backend's health flag, logs the flip once at INFO and tells its
 * subscribers. The caller rebuilds the snapshot ({@code BackendRegistry.refresh()}).
 *
 * <p>Not thread safe: confined to the control thread, like every health counter. Subscribers run
 * on that thread and must not block.
 */
public final class HealthTracker {
    private static final Logger log = LoggerFactory.getLogger(HealthTracker.class);

    private final int rise;
    private final int fall;
    private final Map<String, Streak> streaks = new HashMap<>();
    private final List<Consumer<HealthTransition>> subscribers = new CopyOnWriteArrayList<>();

    public HealthTracker(int rise, int fall) {
        if (rise < 1) {
            throw new IllegalArgumentException("rise: " + rise + " (expected: >= 1)");
        }
        if (fall < 1) {
            throw new IllegalArgumentException("fall: " + fall + " (expected: >= 1)");
        }
        this.rise = rise;
        this.fall = fall;
    }

    /** Called with every flip, on the control thread. */
    public void subscribe(Consumer<HealthTransition> subscriber) {
        subscribers.add(requireNonNull(subscriber, "subscriber"));
    }

    /**
     * Counts one check result for {@code backend} and flips its health flag when a threshold is
     * reached.
     *
     * @return the flip, or {@code null} when the flag stays as it was
     */
    public HealthTransition observe(Backend backend, HealthCheckResult result) {
        Streak streak = streaks.get(backend.id());
        boolean first = streak == null;
        if (first) {
            streak = new Streak();
            streaks.put(backend.id(), streak);
        }
        boolean up = backend.state().healthy();
        if (result.healthy()) {
            streak.failures = 0;
            streak.successes++;
            if (up || streak.successes < rise) {
                return null;
            }
        } else {
            streak.successes = 0;
            streak.failures++;
            if (!up || (streak.failures < fall && !first)) {
                return null;
            }
        }
        HealthTransition t = new HealthTransition(backend.id(), !up,
                up ? streak.failures : streak.successes, result.detail());
        backend.state().setHealthy(t.healthy());
        if (t.healthy()) {
            log.info("backend {} is UP after {} passed health checks ({})", backend, t.consecutive(), t.detail());
        } else if (first) {
            // Not fall: a backend that never passed a check is not trusted on its first failure.
            log.info("backend {} is DOWN: its first health check failed ({}); {} passed checks bring it up",
                    backend, t.detail(), rise);
        } else {
            log.info("backend {} is DOWN after {} failed health checks ({})", backend, t.consecutive(), t.detail());
        }
        for (Consumer<HealthTransition> s : subscribers) {
            s.accept(t);
        }
        return t;
    }

    /** Drops the counters of a backend that left the pool. */
    public void forget(String backendId) {
        streaks.remove(backendId);
    }

    /** Checks in a row with the same result; one of the two is always 0. */
    private static final class Streak {
        int successes;
        int failures;
    }
}
