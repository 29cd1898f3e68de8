package io.fulcrum.balancer.edge;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.RateLimitConfig;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A rate limit whose buckets live in the fleet's Redis ({@link RedisBuckets}), so that every
 * balancer sharing it takes from one bucket per key, with the same token-bucket rules as
 * {@link RateLimiter}.
 *
 * <p>No request ever waits for Redis. Each balancer holds a small lease of tokens per key, taken
 * from Redis in batches (about 10 ms of the rate, at least 1, at most a quarter of the burst) and
 * topped up, asynchronously, once it is half spent; a request takes from the lease. When the lease
 * is empty and a reply is still out (a key's first request, or a burst faster than one round trip),
 * the request is decided by a local bucket of the same limit, and what it let through is charged to
 * the Redis bucket with the next take (the bucket may go into debt, down to minus the burst), so
 * the fleet's long-run rate stays the limit. When Redis last said the bucket was empty, nothing is
 * let through on credit: requests are refused until Redis said a token is back, and then until it
 * grants one.
 *
 * <p>What this costs in accuracy, at most, per key: each balancer's lease (one batch) on top of the
 * burst after a long idle time, and, in the round trip after a lease runs dry, what the local bucket
 * lets through. While Redis is unreachable the local bucket decides alone ({@code fail-open}), or
 * every request of the limit is refused.
 *
 * <p>Thread-safe: each key's lease is guarded by its own monitor, held for a few arithmetic
 * operations, never across I/O. Redis' replies are applied on Lettuce's thread.
 */
public final class FleetRateLimiter implements KeyedLimiter {
    private static final double BATCH_SECONDS = 0.01;

    private final RateLimitConfig config;
    private final RateLimiter local;
    private final RedisBuckets store;
    private final String scope;
    private final long batch;
    private final ConcurrentHashMap<String, Lease> leases = new ConcurrentHashMap<>();

    /**
     * @param scope what tells this limit's buckets from the others' in Redis: {@code top}, or the
     *     route's name; the same on every balancer of the fleet
     */
    public FleetRateLimiter(RateLimitConfig config, String scope, RedisBuckets store) {
        this.config = requireNonNull(config, "config");
        this.scope = requireNonNull(scope, "scope") + ":";
        this.store = requireNonNull(store, "store");
        this.local = new RateLimiter(config.local());
        this.batch = batch(config);
    }

    /** Tokens taken from Redis at once: about 10 ms of the rate, at least 1, at most a quarter of the burst. */
    static long batch(RateLimitConfig config) {
        long tenMillis = (long) Math.ceil(config.perSecond() * BATCH_SECONDS);
        return Math.max(1, Math.min(tenMillis, config.burst() / 4));
    }

    @Override
    public RateLimitConfig config() {
        return config;
    }

    @Override
    public int keys() {
        return leases.size();
    }

    @Override
    public long acquire(String key, long nowNanos) {
        if (!store.reachable()) {
            store.decidedLocally();
            return store.config().failOpen() ? local.acquire(key, nowNanos) : 1;
        }
        Lease lease = lease(key);
        long answer;
        long force = -1;
        synchronized (lease) {
            boolean waiting = lease.empty && nowNanos - lease.emptyUntil < 0;
            if (lease.tokens > 0) {
                lease.tokens--;
                answer = 0;
            } else if (waiting) {
                // Redis said when a token is back; asking before then would only hear it again.
                answer = seconds(lease.emptyUntil - nowNanos);
            } else if (lease.empty) {
                // It may be back now, and the take below will tell; nothing on credit meanwhile.
                answer = 1;
            } else {
                answer = local.acquire(key, nowNanos);
                if (answer == 0) {
                    lease.debt++;
                }
            }
            if (!lease.pending && !waiting && (lease.tokens < (batch + 1) / 2 || lease.debt > 0)) {
                lease.pending = true;
                force = lease.debt;
                lease.debt = 0;
            }
        }
        if (force >= 0) {
            take(lease, key, force, nowNanos);
        }
        return answer;
    }

    /** Takes {@code force} and a batch from Redis for {@code lease}; {@code sentNanos} is the clock when sent. */
    private void take(Lease lease, String key, long force, long sentNanos) {
        store.takeSent();
        store.take(scope + key, config.perSecond(), config.burst(), force, batch).whenComplete((grant, e) -> {
            try {
                settle(lease, grant, e, sentNanos);
            } finally {
                store.takeSettled();
            }
        });
    }

    /** What a take's answer (or its failure {@code e}) leaves in {@code lease}. */
    private static void settle(Lease lease, RedisBuckets.Grant grant, Throwable e, long sentNanos) {
        synchronized (lease) {
            lease.pending = false;
            if (e != null) {
                // The debt is forgiven: Redis is unreachable, and the local bucket decides now.
                return;
            }
            lease.tokens += grant.granted();
            lease.empty = grant.granted() == 0;
            if (lease.empty) {
                // From when it was asked, on the request path's clock: a little early, never late.
                lease.emptyUntil = sentNanos + grant.waitNanos();
            }
        }
    }

    private Lease lease(String key) {
        Lease lease = leases.get(key);
        if (lease != null) {
            return lease;
        }
        if (leases.size() >= config.maxKeys()) {
            // Bounded like the local table; a lease dropped loses at most one batch of tokens.
            Iterator<Lease> it = leases.values().iterator();
            for (int i = 0; i < Math.max(1, config.maxKeys() / 16) && it.hasNext(); i++) {
                it.next();
                it.remove();
            }
        }
        return leases.computeIfAbsent(key, k -> new Lease());
    }

    private static long seconds(long nanos) {
        return Math.max(1, (nanos + 999_999_999L) / 1_000_000_000L);
    }

    /** One key's share of the fleet's bucket in this balancer; guarded by its own monitor. */
    private static final class Lease {
        /** Granted by Redis and not used yet. */
        long tokens;
        /** Let through by the local bucket while no lease was held; charged with the next take. */
        long debt;
        /** A take is out. */
        boolean pending;
        /** The last take granted nothing. */
        boolean empty;
        /** When the last take said a token is back (on the clock {@link #acquire} is given); read when {@link #empty}. */
        long emptyUntil;
    }
}
