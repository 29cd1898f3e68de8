package io.fulcrum.balancer.balancing;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts of the selections that left the client's region: spill-over (a routable backend of
 * another region, because the near ones were saturated or unroutable) and panic mode (no routable
 * backend anywhere, so any non-draining one), by source region (the region whose plan was used)
 * and destination region (the chosen backend's). One instance lives as long as the registry and is
 * handed from each snapshot's load balancer to the next, so counts never reset on a swap.
 *
 * <p>Thread-safe. Counters are created on the control thread when a load balancer is built (one per
 * pair of known regions), so selection only increments a {@link LongAdder} it already holds.
 */
public final class RoutingCounters {
    /** The two kinds of selection counted here. */
    public enum Kind {
        SPILLOVER, PANIC
    }

    /** One counter: what it counts, from which region to which. */
    public record Key(Kind kind, String from, String to) {
    }

    private final Map<Key, LongAdder> counters = new ConcurrentHashMap<>();

    /** The counter of {@code kind} selections from {@code from} to {@code to}, created when absent. */
    LongAdder counter(Kind kind, String from, String to) {
        return counters.computeIfAbsent(new Key(kind, from, to), k -> new LongAdder());
    }

    /** Every counter created so far (for metrics binding); the map is live and thread-safe. */
    public Map<Key, LongAdder> all() {
        return counters;
    }

    /** The sum of one kind's counters. */
    public long total(Kind kind) {
        long sum = 0;
        for (Map.Entry<Key, LongAdder> e : counters.entrySet()) {
            if (e.getKey().kind() == kind) {
                sum += e.getValue().sum();
            }
        }
        return sum;
    }
}
