package io.fulcrum.node.store;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * What differs between the SQL engines behind {@link JdbcPostStore}: how a write transaction starts,
 * how concurrent schema migrations are serialised, which error means a unique key was taken, and
 * where the engine's schema scripts live. The statements themselves are shared.
 *
 * <p>Implementations are stateless and thread-safe.
 */
public interface SqlDialect {
    /** The folder under {@code db/} holding this engine's schema scripts. */
    String name();

    /** Starts a write transaction on {@code connection}, which is in auto-commit mode. */
    void beginWrite(Connection connection) throws SQLException;

    /** Commits the transaction begun by {@link #beginWrite} and returns to auto-commit mode. */
    void commit(Connection connection) throws SQLException;

    /** Rolls back the transaction begun by {@link #beginWrite} and returns to auto-commit mode. */
    void rollback(Connection connection) throws SQLException;

    /**
     * Inside a write transaction, waits until no other process is migrating the same database, so
     * nodes starting together apply each schema version exactly once.
     */
    void lockForMigration(Connection connection) throws SQLException;

    /**
     * Inside a write transaction, just before its row goes into {@code post_changes}: makes sure
     * that change rows commit in the order of their {@code seq}, so a feed that has read up to some
     * seq never finds a lower one committed later.
     */
    void lockChangeLog(Connection connection) throws SQLException;

    /** Whether {@code e} reports a violated unique constraint (the idempotency key was taken). */
    boolean isUniqueViolation(SQLException e);
}
