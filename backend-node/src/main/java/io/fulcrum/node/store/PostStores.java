package io.fulcrum.node.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.fulcrum.node.config.ReplicaConfig;
import io.fulcrum.node.config.StoreConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Properties;

/**
 * Opens the configured store: creates the HikariCP pools, migrates the schema and returns a ready
 * {@link PostStore}. Pool usage is published to the given registry ({@code hikaricp_connections_*}).
 *
 * <p>SQLite gets two pools on one file: a single writer connection (SQLite admits one writer at a
 * time, so more writer connections would only queue on its lock) and {@code pool-size} readers, which
 * WAL mode lets run beside the writer, also across processes. Every connection sets the busy timeout,
 * so a node waits for another process's write lock instead of failing at once.
 *
 * <p>Stateless; {@link #open} is called once by the thread that wires the node.
 */
public final class PostStores {
    private PostStores() {
    }

    /** Opens the store described by {@code config}; throws {@link StoreUnavailableException} if it cannot. */
    public static PostStore open(StoreConfig config, String nodeId, MeterRegistry registry, Clock clock) {
        return switch (config.kind()) {
            case SQLITE -> openSqlite(config, nodeId, registry, clock);
            case POSTGRES -> openPostgres(config, nodeId, registry, clock);
        };
    }

    private static PostStore openSqlite(StoreConfig config, String nodeId, MeterRegistry registry, Clock clock) {
        Path file = config.sqlitePath().toAbsolutePath();
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new StoreUnavailableException("cannot create " + file.getParent(), e);
        }
        String url = "jdbc:sqlite:" + file;
        HikariDataSource writer = new HikariDataSource(sqliteConfig(config, url, nodeId + "-sqlite-writer", 1,
                registry));
        HikariDataSource readers = null;
        try {
            readers = new HikariDataSource(sqliteConfig(config, url, nodeId + "-sqlite-readers", config.poolSize(),
                    registry));
            HikariDataSource r = readers;
            SqlDialect dialect = new SqliteDialect();
            new SchemaMigrator(dialect).migrate(writer);
            return new JdbcPostStore(dialect, writer, readers, clock, () -> {
                r.close();
                writer.close();
            });
        } catch (SQLException | RuntimeException e) {
            if (readers != null) {
                readers.close();
            }
            writer.close();
            throw e instanceof SQLException s ? new StoreUnavailableException("cannot open " + file, s)
                    : (RuntimeException) e;
        }
    }

    private static HikariConfig sqliteConfig(StoreConfig config, String url, String poolName, int size,
            MeterRegistry registry) {
        HikariConfig hc = base(config, poolName, size, registry);
        hc.setJdbcUrl(url);
        // Pragmas the sqlite-jdbc driver applies to every new connection.
        hc.addDataSourceProperty("journal_mode", "WAL");
        hc.addDataSourceProperty("busy_timeout", String.valueOf(config.busyTimeout().toMillis()));
        // In WAL mode NORMAL is durable against process crashes; only an OS crash may lose the last commits.
        hc.addDataSourceProperty("synchronous", "NORMAL");
        return hc;
    }

    /**
     * Opens the configured store with its topology: a {@link ReplicatedStore} when a replica is
     * configured, else the single store of {@link #open}. The replica need not be up: until it answers,
     * the primary serves the reads.
     */
    public static StoreTopology openTopology(StoreConfig config, String nodeId, MeterRegistry registry,
            Clock clock) {
        ReplicaConfig rc = config.replica();
        if (rc == null) {
            return StoreTopology.single(open(config, nodeId, registry, clock));
        }
        HikariDataSource primaryPool = postgresPool(config, nodeId + "-postgres", config.url(), config.user(),
                config.password(), registry);
        PostStore primary = migrated(config, primaryPool, clock);
        HikariConfig hc = pgConfig(config, nodeId + "-replica", rc.url(), rc.user(), rc.password(), registry);
        // Start even while the replica is down or still being cloned: the primary serves until it answers.
        hc.setInitializationFailTimeout(-1);
        hc.setReadOnly(true);
        HikariDataSource replicaPool;
        try {
            replicaPool = new HikariDataSource(hc);
        } catch (RuntimeException e) {
            primary.close();
            throw new StoreUnavailableException("cannot configure the replica " + rc.url() + ": " + e.getMessage(), e);
        }
        PostStore replica = new JdbcPostStore(new PostgresDialect(), replicaPool, replicaPool, clock,
                replicaPool::close);
        return new ReplicatedStore(
                new ReplicatedStore.Copy(primary, primaryPool,
                        direct(config.url(), config.user(), config.password(), config.connectionTimeout())),
                new ReplicatedStore.Copy(replica, replicaPool,
                        direct(rc.url(), rc.user(), rc.password(), config.connectionTimeout())),
                rc, nodeId, registry);
    }

    /** Unpooled connections with the pool's timeout, which fail at once when the server refuses them. */
    private static ReplicatedStore.Connector direct(String url, String user, String password, Duration timeout) {
        Properties props = new Properties();
        if (user != null) {
            props.setProperty("user", user);
        }
        if (password != null) {
            props.setProperty("password", password);
        }
        String seconds = String.valueOf(Math.max(1, timeout.toSeconds()));
        props.setProperty("connectTimeout", seconds);
        props.setProperty("loginTimeout", seconds);
        props.setProperty("socketTimeout", String.valueOf(Math.max(1, 2 * timeout.toSeconds())));
        return () -> DriverManager.getConnection(url, props);
    }

    private static PostStore openPostgres(StoreConfig config, String nodeId, MeterRegistry registry, Clock clock) {
        HikariDataSource pool = postgresPool(config, nodeId + "-postgres", config.url(), config.user(),
                config.password(), registry);
        return migrated(config, pool, clock);
    }

    private static HikariConfig pgConfig(StoreConfig config, String poolName, String url, String user,
            String password, MeterRegistry registry) {
        HikariConfig hc = base(config, poolName, config.poolSize(), registry);
        hc.setJdbcUrl(url);
        if (user != null) {
            hc.setUsername(user);
        }
        if (password != null) {
            hc.setPassword(password);
        }
        return hc;
    }

    private static HikariDataSource postgresPool(StoreConfig config, String poolName, String url, String user,
            String password, MeterRegistry registry) {
        HikariConfig hc = pgConfig(config, poolName, url, user, password, registry);
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(hc);
        } catch (RuntimeException e) {
            throw new StoreUnavailableException("cannot connect to " + url + ": " + e.getMessage(), e);
        }
        return pool;
    }

    private static PostStore migrated(StoreConfig config, HikariDataSource pool, Clock clock) {
        try {
            SqlDialect dialect = new PostgresDialect();
            new SchemaMigrator(dialect).migrate(pool);
            return new JdbcPostStore(dialect, pool, pool, clock, pool::close);
        } catch (SQLException | RuntimeException e) {
            pool.close();
            throw e instanceof SQLException s ? new StoreUnavailableException("cannot migrate " + config.url(), s)
                    : (RuntimeException) e;
        }
    }

    private static HikariConfig base(StoreConfig config, String poolName, int size, MeterRegistry registry) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName(poolName);
        hc.setMaximumPoolSize(size);
        hc.setMinimumIdle(Math.min(size, 2));
        hc.setAutoCommit(true);
        hc.setConnectionTimeout(config.connectionTimeout().toMillis());
        // Fail start-up fast when the store is unreachable instead of serving 503s from the first request.
        hc.setInitializationFailTimeout(config.connectionTimeout().toMillis());
        hc.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
        return hc;
    }
}
