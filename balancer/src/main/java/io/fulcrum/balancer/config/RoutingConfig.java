package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How a backend is chosen.
 *
 * @param policy the selection policy
 * @param regionHeader request header carrying the client's region, or {@code null} when not configured
 * @param spillover when and where to leave the client's region
 * @param slowStart window over which a backend that comes back ramps up to its full share
 *     ({@link Duration#ZERO} disables slow start)
 * @param affinity the pool's session affinity (YAML {@code affinity}), or {@code null} for none
 * @param leastBusy the least-busy policy's knobs
 */
public record RoutingConfig(Policy policy, String regionHeader, SpilloverConfig spillover, Duration slowStart,
        AffinityConfig affinity, LeastBusyConfig leastBusy) {

    /** Selection policies; {@code least-busy} in YAML is {@link #LEAST_BUSY}. */
    public enum Policy {
        LEAST_BUSY("least-busy"),
        ROUND_ROBIN("round-robin"),
        RANDOM("random");

        private final String yamlName;

        Policy(String yamlName) {
            this.yamlName = yamlName;
        }

        public String yamlName() {
            return yamlName;
        }
    }

    /** Routing without affinity, least-busy at its defaults. */
    public RoutingConfig(Policy policy, String regionHeader, SpilloverConfig spillover, Duration slowStart) {
        this(policy, regionHeader, spillover, slowStart, null);
    }

    /** Routing with least-busy at its defaults. */
    public RoutingConfig(Policy policy, String regionHeader, SpilloverConfig spillover, Duration slowStart,
            AffinityConfig affinity) {
        this(policy, regionHeader, spillover, slowStart, affinity, LeastBusyConfig.DEFAULT);
    }

    /** This routing with {@code affinity} instead (may be {@code null}). */
    public RoutingConfig withAffinity(AffinityConfig affinity) {
        return new RoutingConfig(policy, regionHeader, spillover, slowStart, affinity, leastBusy);
    }

    /** Every field at its default: least-busy, spillover at 0.8 to every other region, 10s slow start. */
    public static final RoutingConfig DEFAULT = new RoutingConfig(Policy.LEAST_BUSY, null,
            new SpilloverConfig(0.8, java.util.List.of()), Duration.ofSeconds(10));

    public RoutingConfig {
        requireNonNull(policy, "policy");
        requireNonNull(spillover, "spillover");
        requireNonNull(slowStart, "slowStart");
        requireNonNull(leastBusy, "leastBusy");
        DurationBounds.notNegative("slowStart", slowStart);
    }
}
