package io.fulcrum.node.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where posts are kept and how many JDBC workers may touch them.
 *
 * <p>For {@link Kind#SQLITE} only {@code sqlitePath} and {@code busyTimeout} matter: every node of one
 * machine opens the same file in WAL mode. For {@link Kind#POSTGRES} only {@code url}, {@code user}
 * and {@code password} matter. {@code poolSize} is the number of JDBC worker threads and pooled
 * connections (for SQLite: readers; there is always exactly one writer). {@code queueCapacity} bounds
 * the work waiting for a worker: beyond it the node answers 503 at once.
 *
 * <p>Immutable and thread-safe. {@link #toString()} never shows the password.
 */
public record StoreConfig(
        Kind kind,
        Path sqlitePath,
        Duration busyTimeout,
        String url,
        String user,
        String password,
        int poolSize,
        int queueCapacity,
        Duration connectionTimeout,
        ReplicaConfig replica) {

    /** The two supported engines. */
    public enum Kind {
        /** One embedded file, shared by the nodes of one machine. */
        SQLITE,
        /** A PostgreSQL server, shared by nodes on any machine. */
        POSTGRES
    }

    /** Validates the store settings. */
    public StoreConfig {
        requireNonNull(kind, "kind");
        requireNonNull(busyTimeout, "busyTimeout");
        requireNonNull(connectionTimeout, "connectionTimeout");
        if (kind == Kind.SQLITE) {
            requireNonNull(sqlitePath, "sqlitePath");
        } else {
            requireNonNull(url, "url");
            if (!url.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("url: " + url + " (expected: jdbc:postgresql://...)");
            }
        }
        if (replica != null && kind != Kind.POSTGRES) {
            throw new IllegalArgumentException("replica: only with kind postgres");
        }
        if (poolSize < 1 || poolSize > 256) {
            throw new IllegalArgumentException("pool-size: " + poolSize + " (expected: 1-256)");
        }
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("queue-capacity: " + queueCapacity + " (expected: >= 1)");
        }
        if (connectionTimeout.toMillis() < 250) {
            throw new IllegalArgumentException("connection-timeout: " + connectionTimeout + " (expected: >= 250ms)");
        }
    }

    /** A store without a replica. */
    public StoreConfig(Kind kind, Path sqlitePath, Duration busyTimeout, String url, String user, String password,
            int poolSize, int queueCapacity, Duration connectionTimeout) {
        this(kind, sqlitePath, busyTimeout, url, user, password, poolSize, queueCapacity, connectionTimeout, null);
    }

    /** An SQLite store at {@code path} with the default pool, queue and timeouts. */
    public static StoreConfig sqlite(Path path) {
        return new StoreConfig(Kind.SQLITE, path, Duration.ofSeconds(5), null, null, null, 4, 64,
                Duration.ofSeconds(2));
    }

    /** A PostgreSQL store with the default pool, queue and timeouts. */
    public static StoreConfig postgres(String url, String user, String password) {
        return new StoreConfig(Kind.POSTGRES, null, Duration.ofSeconds(5), url, user, password, 8, 64,
                Duration.ofSeconds(2));
    }

    /** Returns a copy with another pool size and queue capacity. */
    public StoreConfig withWorkers(int newPoolSize, int newQueueCapacity) {
        return new StoreConfig(kind, sqlitePath, busyTimeout, url, user, password, newPoolSize, newQueueCapacity,
                connectionTimeout, replica);
    }

    /** Returns a copy reading from {@code newReplica} (null: all reads on the primary). */
    public StoreConfig withReplica(ReplicaConfig newReplica) {
        return new StoreConfig(kind, sqlitePath, busyTimeout, url, user, password, poolSize, queueCapacity,
                connectionTimeout, newReplica);
    }

    @Override
    public String toString() {
        return "StoreConfig[kind=" + kind + ", sqlitePath=" + sqlitePath + ", url=" + url + ", user=" + user
                + ", password=" + (password == null ? "(none)" : "(hidden)") + ", poolSize=" + poolSize
                + ", queueCapacity=" + queueCapacity + ", replica=" + replica + "]";
    }
}
