package io.fulcrum.balancer.config;

import java.util.List;

/**
 * @param saturation fraction of a backend's max-in-flight at which it counts as busy, in (0, 1]
 * @param order regions to spill to, in order; empty means every other region
 */
public record SpilloverConfig(double saturation, List<String> order) {
    public SpilloverConfig {
        order = List.copyOf(order);
        if (!(saturation > 0 && saturation <= 1)) {
            throw new IllegalArgumentException("saturation: " + saturation + " (expected: (0, 1])");
        }
    }
}
