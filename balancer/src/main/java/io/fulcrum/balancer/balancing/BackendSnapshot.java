package io.fulcrum.balancer.balancing;

import java.util.List;

/**
 * One immutable view of the backend pool and the load balancer built for it. Swapped atomically
 * by {@link BackendRegistry}; the request path reads it without locks.
 *
 * @param generation increases with every swap
 * @param backends every configured backend, in config order
 * @param loadBalancer the selector for this snapshot
 */
public record BackendSnapshot(long generation, List<Backend> backends, LoadBalancer loadBalancer) {
    /** Below this mean recent error rate of its peers, a backend's failure is its own. */
    public static final double PEERS_WELL_ERROR_RATE = 0.05;
    /** Requests a peer must have ended before its error rate counts as evidence that the pool is well. */
    static final long PEER_EVIDENCE = 20;

    public BackendSnapshot {
        backends = List.copyOf(backends);
    }

    /** The backend with this id, or {@code null}. */
    public Backend byId(String id) {
        for (Backend b : backends) {
            if (b.id().equals(id)) {
                return b;
            }
        }
        return null;
    }

    /**
     * Whether the backends other than {@code failed} (draining ones left out) fail little at
     * {@code nowNanos}: their mean recent error rate is below {@value #PEERS_WELL_ERROR_RATE}, one
     * that is down, ejected or held down, or has ended fewer than {@value #PEER_EVIDENCE} requests yet, counting as failing everything. Then a failure at
     * {@code failed} is that backend's own, not a brown-out of the pool. O(backends).
     */
    public boolean othersFailLittle(Backend failed, long nowNanos) {
        double sum = 0;
        int peers = 0;
        for (Backend b : backends) {
            BackendState s = b.state();
            if (s != failed.state() && !s.draining()) {
                // A peer with few answers yet is no evidence that the pool is well: its error rate
                // starts at 0 and moves 1/50 of the way per answer.
                sum += s.routable() && !s.heldDown(nowNanos) && s.requests() >= PEER_EVIDENCE
                        ? s.recentErrorRate(nowNanos) : 1;
                peers++;
            }
        }
        return peers > 0 && sum / peers < PEERS_WELL_ERROR_RATE;
    }
}
