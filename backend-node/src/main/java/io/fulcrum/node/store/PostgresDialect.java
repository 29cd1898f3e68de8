package io.fulcrum.node.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;

/**
 * PostgreSQL: plain JDBC transactions at READ COMMITTED. Concurrent creates with one idempotency key
 * are settled by the unique index (SQLSTATE 23505, the loser re-reads the winner's post); conditional
 * edits are single {@code UPDATE ... WHERE version = ?} statements, atomic by themselves. Migrations
 * are serialised with a transaction-scoped advisory lock.
 *
 * <p>Stateless and thread-safe.
 */
public final class PostgresDialect implements SqlDialect {
    /** Arbitrary but fixed advisory lock key: "fulcrum" in ASCII, truncated to 63 bits. */
    private static final long MIGRATION_LOCK = 0x66756c6372756dL;
    /** Advisory lock key of the change log: "fulchg" in ASCII. */
    private static final long CHANGE_LOG_LOCK = 0x66756c636867L;

    @Override
    public String name() {
        return "postgres";
    }

    @Override
    public void beginWrite(Connection connection) throws SQLException {
        connection.setAutoCommit(false);
    }

    @Override
    public void commit(Connection connection) throws SQLException {
        connection.commit();
        connection.setAutoCommit(true);
    }

    @Override
    public void rollback(Connection connection) throws SQLException {
        connection.rollback();
        connection.setAutoCommit(true);
    }

    @Override
    public void lockForMigration(Connection connection) throws SQLException {
        try (PreparedStatement st = connection.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
            st.setLong(1, MIGRATION_LOCK);
            st.execute();
        }
    }

    /**
     * A sequence hands out values at insert time, but transactions commit in any order: without
     * this lock a feed could read seq 11 and then miss seq 10 committed a moment later. The lock is
     * taken last in the transaction and held until its commit, so writers queue only for that span.
     */
    @Override
    public void lockChangeLog(Connection connection) throws SQLException {
        try (PreparedStatement st = connection.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
            st.setLong(1, CHANGE_LOG_LOCK);
            st.execute();
        }
    }

    @Override
    public boolean isUniqueViolation(SQLException e) {
        return "23505".equals(e.getSQLState());
    }
}
