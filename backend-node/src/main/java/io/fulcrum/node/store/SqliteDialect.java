package io.fulcrum.node.store;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;

/**
 * SQLite: writes start with {@code BEGIN IMMEDIATE}, which takes the database's single write lock up
 * front. A deferred transaction that first reads and then writes could fail with SQLITE_BUSY without
 * waiting when another process committed in between (https://sqlite.org/lang_transaction.html);
 * IMMEDIATE makes it wait up to the busy timeout instead. The same lock serialises migrations.
 *
 * <p>The driver stays in auto-commit mode and the transaction statements are issued directly: the
 * driver's own transaction handling would begin the next transaction eagerly after each commit and
 * hold the write lock while the connection sits idle in the pool.
 *
 * <p>Stateless and thread-safe.
 */
public final class SqliteDialect implements SqlDialect {
    private static final int SQLITE_CONSTRAINT = 19;

    @Override
    public String name() {
        return "sqlite";
    }

    @Override
    public void beginWrite(Connection connection) throws SQLException {
        exec(connection, "BEGIN IMMEDIATE");
    }

    @Override
    public void commit(Connection connection) throws SQLException {
        exec(connection, "COMMIT");
    }

    @Override
    public void rollback(Connection connection) throws SQLException {
        exec(connection, "ROLLBACK");
    }

    @Override
    public void lockForMigration(Connection connection) {
        // BEGIN IMMEDIATE already holds the only write lock of the file.
    }

    @Override
    public void lockChangeLog(Connection connection) {
        // BEGIN IMMEDIATE: one writer at a time, so seq order is already commit order.
    }

    @Override
    public boolean isUniqueViolation(SQLException e) {
        String message = e.getMessage() == null ? "" : e.getMessage().toUpperCase(Locale.ROOT);
        return (e.getErrorCode() == SQLITE_CONSTRAINT || message.contains("SQLITE_CONSTRAINT"))
                && message.contains("UNIQUE");
    }

    private static void exec(Connection connection, String sql) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
        }
    }
}
