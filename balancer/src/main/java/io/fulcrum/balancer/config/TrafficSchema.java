package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.AccessSchema.obj;

import io.fulcrum.config.Durations;
import io.fulcrum.config.FieldTable;

/**
 * The keys of a route's {@code hedge}, declared as {@link BalancerSchema} declares every other.
 * It names nothing of {@link BalancerSchema} while it is made, so either may be loaded first.
 * Immutable and thread-safe.
 */
final class TrafficSchema {
    static final FieldTable HEDGE = FieldTable.builder("A second try of a slow idempotent request at another backend")
            .custom("delay", HedgeConfig.P95, obj("type", "string", "pattern",
                            "^(" + Durations.PATTERN + "|" + HedgeConfig.P95 + ")$"),
                    "How long the first try may go without a response head before the second is sent: a duration,"
                            + " or p95 (the pool's observed p95 of hedging routes, at least min-delay)")
            .duration("min-delay", HedgeConfig.DEFAULT_MIN_DELAY, true, "The floor of the p95 delay (> 0)")
            .custom("methods", HedgeConfig.DEFAULT_METHODS, obj("type", "array", "minItems", 1, "items",
                            obj("type", "string", "pattern", "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")),
                    "The methods hedged, case-sensitive; list only idempotent ones")
            .build();

    private TrafficSchema() {
    }
}
