package io.fulcrum.balancer.balancing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.RoutingConfig.Policy;
import io.fulcrum.balancer.config.RoutingConfig;
import io.fulcrum.balancer.config.SpilloverConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** Small builders shared by the routing tests. */
final class RoutingFixtures {
    static final Duration NO_SLOW_START = Duration.ZERO;

    private RoutingFixtures() {
    }

    static BackendConfig config(String id, String region, int weight, int maxInFlight) {
        return new BackendConfig(id, "127.0.0.1", 9000 + Math.floorMod(id.hashCode(), 1000), region, weight,
                maxInFlight);
    }

    static Backend backend(String id, String region, int weight, int maxInFlight, NanoClock clock) {
        return new Backend(config(id, region, weight, maxInFlight), new BackendState(clock));
    }

    static Backend backend(String id, int weight, NanoClock clock) {
        return backend(id, "us-east", weight, 1000, clock);
    }

    /** Backends a, b and c weighted 1, 2 and 3. */
    static List<Backend> weightedOneTwoThree(NanoClock clock) {
        return List.of(backend("a", 1, clock), backend("b", 2, clock), backend("c", 3, clock));
    }

    /** Asserts that a, b and c of {@link #weightedOneTwoThree} got 1/6, 2/6 and 3/6 of {@code total}. */
    static void assertOneTwoThreeShares(Map<String, Integer> counts, int total) {
        assertShare(counts, "a", total, 1 / 6.0);
        assertShare(counts, "b", total, 2 / 6.0);
        assertShare(counts, "c", total, 3 / 6.0);
    }

    /** Asserts that {@code id} got {@code expected} of {@code total} selections, within 5% of it. */
    static void assertShare(Map<String, Integer> counts, String id, int total, double expected) {
        double share = counts.getOrDefault(id, 0) / (double) total;
        assertEquals(expected, share, 0.05 * expected, id + " share " + share + " of " + counts);
    }

    static RoutingConfig routing(Policy policy, double saturation, List<String> order, Duration slowStart) {
        return new RoutingConfig(policy, "X-Client-Region", new SpilloverConfig(saturation, order), slowStart);
    }

    static RoutingConfig routing(Policy policy) {
        return routing(policy, 0.8, List.of(), NO_SLOW_START);
    }

    /** Holds {@code count} in-flight slots on {@code b}. */
    static void occupy(Backend b, int count) {
        for (int i = 0; i < count; i++) {
            if (!b.tryAcquire()) {
                throw new IllegalStateException(b + " is full after " + i);
            }
        }
    }

    /** Counts selections by backend id; {@code "null"} counts empty results. */
    static Map<String, Integer> tally(int times, Supplier<Backend> selection) {
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < times; i++) {
            Backend b = selection.get();
            counts.merge(b == null ? "null" : b.id(), 1, Integer::sum);
        }
        return counts;
    }

    /**
     * Asserts that {@code lb} gives all of {@code times} selections to {@code free}, the one backend
     * with room, and none at all once {@code fill} more slots of it are taken: a full backend is
     * never returned.
     */
    static void assertOnlyFreeBackendThenNone(LoadBalancer lb, Backend free, int times, int fill) {
        assertEquals(Map.of(free.id(), times), tally(times, () -> lb.select(RequestInfo.DEFAULT)));
        occupy(free, fill);
        assertNull(lb.select(RequestInfo.DEFAULT));
    }
}
