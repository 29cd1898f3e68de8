package io.fulcrum.balancer.config;

/**
 * The {@code least-busy} policy's knobs (YAML {@code routing.least-busy}).
 *
 * @param exactMax pools of at most this many candidates are scanned whole for the cheapest backend;
 *     larger ones compare {@code choices} drawn at random
 * @param choices backends drawn and compared in a pool larger than {@code exactMax}, at least 2
 * @param errorWeight how much a backend's recent failure rate raises its cost: the cost is
 *     multiplied by 1 + errorWeight × rate; 0 leaves failures out of the cost
 */
public record LeastBusyConfig(int exactMax, int choices, double errorWeight) {
    /** Every field at its default. */
    public static final LeastBusyConfig DEFAULT = new LeastBusyConfig(16, 2, 4);

    public LeastBusyConfig {
        if (exactMax < 0) {
            throw new IllegalArgumentException("exactMax: " + exactMax + " (expected: >= 0)");
        }
        if (choices < 2) {
            throw new IllegalArgumentException("choices: " + choices + " (expected: >= 2)");
        }
        if (!(errorWeight >= 0) || Double.isInfinite(errorWeight)) {
            throw new IllegalArgumentException("errorWeight: " + errorWeight + " (expected: a number >= 0)");
        }
    }
}
