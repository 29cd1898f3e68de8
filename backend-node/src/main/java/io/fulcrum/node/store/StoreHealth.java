package io.fulcrum.node.store;

/**
 * The state of a replicated store as {@code /health} reports it.
 *
 * @param primaryUp whether the primary answered its last check
 * @param replicaUp whether the replica answered its last check
 * @param lagMillis how long the replica has been behind the primary (see {@link ReplicaLag})
 * @param maxLagMillis the configured {@code max-lag}
 * @param primaryPosition the primary's last sampled WAL position (0: never sampled)
 * @param replicaPosition the replica's last known replay position (0: never sampled)
 *
 * <p>Immutable and thread-safe.
 */
public record StoreHealth(boolean primaryUp, boolean replicaUp, long lagMillis, long maxLagMillis,
        long primaryPosition, long replicaPosition) {

    /**
     * Whether the replica answers but lags past {@code max-lag}: the node then asks the balancer to
     * route around it. A replica that does not answer is not stale: the primary serves the reads.
     */
    public boolean stale() {
        return replicaUp && lagMillis > maxLagMillis;
    }
}
