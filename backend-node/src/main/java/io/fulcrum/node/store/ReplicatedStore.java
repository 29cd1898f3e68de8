package io.fulcrum.node.store;

import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariDataSource;
import io.fulcrum.node.config.ReplicaConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.LongConsumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL primary and the node's streaming replica.
 *
 * <p><b>Writes</b> run on the primary. After each one the primary's current WAL position
 * ({@code pg_current_wal_lsn()}, which is at or past the write's commit record) becomes the client's
 * token. While the primary is known to be down, writes fail at once with
 * {@link PrimaryUnavailableException}, so that they neither wait on the pool's connection timeout nor
 * hold the workers that reads need.
 *
 * <p><b>Reads</b> run on the replica when it has replayed the client's token (the last replay position
 * seen by the checks tells, without a query) and lags by at most {@code max-lag}; a replica behind the
 * token is polled for up to {@code read-your-writes-wait} (unless it already lags by more than that,
 * when waiting would only hold a reader thread); otherwise the primary serves. While the primary
 * is down the replica serves whatever its lag, except a read whose token it has not reached: that one is
 * refused with 503 rather than answered without the client's own write. After a read the copy's
 * position is read again: replay only moves forward, so that position covers everything the read saw,
 * and as the next token it gives the client monotonic reads.
 *
 * <p><b>Checks</b>: every {@code check-interval} one thread samples the primary's position and another
 * the replica's replay position (two, so that a primary hanging on its connection timeout does not delay
 * the lag). They feed {@link ReplicaLag} and the up/down flags; a primary that answers again takes
 * writes again with no restart.
 *
 * <p>Thread-safe: the flags are volatile, the lag is synchronized. {@link #read} and {@link #write}
 * block and run on store workers.
 */
public final class ReplicatedStore implements StoreTopology {
    private static final Logger log = LoggerFactory.getLogger(ReplicatedStore.class);
    private static final String PRIMARY_POSITION = "SELECT pg_current_wal_lsn()::text";
    /** A promoted replica has no replay position; its own position then counts. */
    private static final String REPLICA_POSITION = "SELECT (CASE WHEN pg_is_in_recovery() "
            + "THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text";
    /** Gauge: the replica's lag in seconds (as in {@code /health}). */
    public static final String REPLICA_LAG = "fulcrum.node.replica.lag";
    /** Gauge per {@code copy} (primary, replica): 1 while its last check answered. */
    public static final String COPY_UP = "fulcrum.node.store.up";
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    private final PostStore primary;
    private final Watch primaryWatch;
    private final PostStore replica;
    private final Watch replicaWatch;
    private final ReplicaConfig config;
    private final long maxLagNanos;
    private final ReplicaLag lag = new ReplicaLag();
    private final ScheduledExecutorService checks;

    /**
     * One copy of the posts: its store, the pool behind the store, and a way to open a connection of
     * its own, outside the pool.
     *
     * @param direct opens a new connection that fails at once when the server refuses it; the checks
     *     use it while the copy is down and right after a failed call, where the pool would wait for
     *     its connection timeout first
     */
    public record Copy(PostStore store, DataSource pool, Connector direct) {
        /** Validates the copy. */
        public Copy {
            requireNonNull(store, "store");
            requireNonNull(pool, "pool");
            requireNonNull(direct, "direct");
        }
    }

    /** Opens a connection; see {@link Copy#direct()}. */
    @FunctionalInterface
    public interface Connector {
        /** Opens a new connection, which the caller closes. */
        Connection open() throws SQLException;
    }

    /**
     * Creates the topology and starts its checks.
     *
     * @param primary the primary, migrated
     * @param replica the replica, which is never written through
     */
    public ReplicatedStore(Copy primary, Copy replica, ReplicaConfig config, String nodeId, MeterRegistry registry) {
        this.primary = requireNonNull(primary, "primary").store();
        this.primaryWatch = new Watch("primary", primary, PRIMARY_POSITION, true,
                at -> lag.primaryAt(at, System.nanoTime()), "The primary answers again at {}; writes resume",
                "The primary cannot be reached; writes answer 503 until it does ({})");
        this.replica = requireNonNull(replica, "replica").store();
        this.replicaWatch = new Watch("replica", replica, REPLICA_POSITION, false, lag::replicaAt,
                "The replica answers at {}; reads use it while it is fresh enough",
                "The replica cannot be reached; reads go to the primary until it does ({})");
        this.config = requireNonNull(config, "config");
        this.maxLagNanos = config.maxLag().toNanos();
        AtomicInteger n = new AtomicInteger();
        this.checks = Executors.newScheduledThreadPool(2, r -> {
            Thread t = new Thread(r, nodeId + "-replication-check-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        Gauge.builder(REPLICA_LAG, this, s -> s.lag.lagNanos(System.nanoTime()) / 1e9)
                .description("How long the replica has been behind the primary").baseUnit("seconds")
                .register(registry);
        long interval = config.checkInterval().toMillis();
        for (Watch w : List.of(primaryWatch, replicaWatch)) {
            Gauge.builder(COPY_UP, w, c -> c.up ? 1 : 0).tag("copy", w.name)
                    .description("1 while the copy answers its checks").register(registry);
            checks.scheduleWithFixedDelay(() -> w.check(!w.up), 0, interval, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public <T> T read(ClientPosition position, Function<PostStore, T> work) {
        long required = position.required();
        if (replicaWatch.up && (!stale() || !primaryWatch.up)) {
            long replayed = lag.replayed();
            // A replica already further behind than the wait will not reach a newer token within it.
            if (WalPosition.after(required, replayed)
                    && lag.lagNanos(System.nanoTime()) <= config.catchUpWait().toNanos()) {
                replayed = awaitReplay(required);
            }
            if (!WalPosition.after(required, replayed)) {
                try {
                    return onReplica(position, replayed, work);
                } catch (StoreUnavailableException e) {
                    replicaWatch.down(e);
                }
            }
        }
        if (!primaryWatch.up) {
            throw new PrimaryUnavailableException(replicaWatch.up
                    ? "the replica has not replayed " + WalPosition.format(required)
                            + ", which this client has seen, and the primary cannot be reached"
                    : "neither the replica nor the primary can be reached", null);
        }
        try {
            T result = work.apply(primary);
            observe(position, primaryWatch, required);
            return result;
        } catch (StoreUnavailableException e) {
            primaryWatch.check(true);
            long replayed = lag.replayed();
            if (replicaWatch.up && !WalPosition.after(required, replayed)) {
                // The primary failed under this very read; the replica has what the client needs.
                return onReplica(position, replayed, work);
            }
            throw e;
        }
    }

    private <T> T onReplica(ClientPosition position, long replayed, Function<PostStore, T> work) {
        T result = work.apply(replica);
        observe(position, replicaWatch, replayed);
        return result;
    }

    @Override
    public <T> T write(ClientPosition position, Function<PostStore, T> work) {
        if (!primaryWatch.up) {
            throw new PrimaryUnavailableException("the primary cannot be reached; writes resume when it answers",
                    null);
        }
        T result;
        try {
            result = work.apply(primary);
        } catch (PrimaryUnavailableException e) {
            throw e;
        } catch (StoreUnavailableException e) {
            // One broken pooled connection is no outage: only a failing fresh check stops the writes.
            primaryWatch.check(true);
            throw new PrimaryUnavailableException("the primary failed: " + e.getMessage(), e);
        }
        // The write is committed: a failing position query must not turn it into an error.
        observe(position, primaryWatch, 0);
        return result;
    }

    @Override
    public Optional<StoreHealth> health() {
        return Optional.of(new StoreHealth(primaryWatch.up, replicaWatch.up,
                lag.lagNanos(System.nanoTime()) / 1_000_000, config.maxLag().toMillis(), lag.primary(),
                lag.replayed()));
    }

    @Override
    public void close() {
        ControlThreads.stop(checks);
        replica.close();
        primary.close();
    }

    private boolean stale() {
        return lag.lagNanos(System.nanoTime()) > maxLagNanos;
    }

    /** Polls the replica until it has replayed {@code required} or the wait is over; returns its position. */
    private long awaitReplay(long required) {
        long deadline = System.nanoTime() + config.catchUpWait().toNanos();
        long replayed = lag.replayed();
        while (WalPosition.after(required, replayed) && deadline - System.nanoTime() > 0) {
            LockSupport.parkNanos(Math.min(POLL_NANOS, Math.max(0, deadline - System.nanoTime())));
            try {
                replayed = replicaWatch.position();
                lag.replicaAt(replayed);
            } catch (SQLException e) {
                replicaWatch.down(e);
                return replayed;
            }
        }
        return replayed;
    }

    /** Raises {@code position} to what {@code copy} has now, or to {@code fallback} if that fails. */
    private void observe(ClientPosition position, Watch copy, long fallback) {
        try {
            position.observe(copy.position());
        } catch (SQLException e) {
            log.debug("Could not read the WAL position after a call: {}", e.getMessage());
            position.observe(fallback);
        }
    }

    /**
     * One copy as the checks see it: how to read its position, through the pool or on a connection
     * of its own, and whether its last check answered. The flag is volatile: the checks and the store
     * workers set it, every call reads it.
     */
    private static final class Watch {
        final String name;
        private final DataSource pool;
        private final Connector direct;
        private final String sql;
        private final LongConsumer record;
        private final String upAgain;
        private final String down;
        volatile boolean up;

        /**
         * @param record where a sampled position goes
         * @param upAgain logged with the position when a check answers after the copy was down
         * @param down logged with the failure when the copy goes down
         */
        Watch(String name, Copy copy, String sql, boolean up, LongConsumer record, String upAgain, String down) {
            this.name = name;
            this.pool = copy.pool();
            this.direct = copy.direct();
            this.sql = sql;
            this.up = up;
            this.record = record;
            this.upAgain = upAgain;
            this.down = down;
        }

        /** The copy's position now, read through the pool. */
        long position() throws SQLException {
            return query(pool, sql);
        }

        /**
         * Samples the copy's position and marks it up or down: through the pool while it is up, on a
         * connection of its own while it is down and when a worker calls this after a failed call.
         */
        void check(boolean useDirect) {
            try {
                long at = useDirect ? query(direct, sql) : query(pool, sql);
                record.accept(at);
                if (!up) {
                    log.info(upAgain, WalPosition.format(at));
                    // Connections opened before the outage are dead: replace them before calls use them.
                    evict(pool);
                    up = true;
                }
            } catch (SQLException | RuntimeException e) {
                down(e);
            }
        }

        void down(Exception e) {
            if (up) {
                log.warn(down, e.getMessage());
                up = false;
            }
        }
    }

    private static void evict(DataSource pool) {
        try {
            if (pool.isWrapperFor(HikariDataSource.class)) {
                pool.unwrap(HikariDataSource.class).getHikariPoolMXBean().softEvictConnections();
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("Could not evict the pool's connections: {}", e.getMessage());
        }
    }

    private static long query(DataSource pool, String sql) throws SQLException {
        return query(pool::getConnection, sql);
    }

    private static long query(Connector connector, String sql) throws SQLException {
        try (Connection c = connector.open();
                PreparedStatement st = c.prepareStatement(sql);
                ResultSet rs = st.executeQuery()) {
            if (!rs.next() || rs.getString(1) == null) {
                throw new SQLException("no WAL position");
            }
            return WalPosition.parse(rs.getString(1));
        }
    }
}
