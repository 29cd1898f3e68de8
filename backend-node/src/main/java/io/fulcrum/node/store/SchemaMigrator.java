package io.fulcrum.node.store;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings the database schema up to the newest version listed in {@code db/migrations.txt}, applying
 * each missing {@code db/<engine>/V<n>__<name>.sql} script once, in order, and recording it in
 * {@code schema_version}. Runs at start-up inside one write transaction holding the dialect's
 * migration lock, so several nodes starting at once on the same database apply each version once.
 *
 * <p>Not thread safe; used once by the thread that opens the store.
 */
public final class SchemaMigrator {
    private static final Logger log = LoggerFactory.getLogger(SchemaMigrator.class);

    private final SqlDialect dialect;
    private final ClassLoader resources;

    /** Creates a migrator for {@code dialect}, reading scripts from this class's loader. */
    public SchemaMigrator(SqlDialect dialect) {
        this.dialect = requireNonNull(dialect, "dialect");
        this.resources = SchemaMigrator.class.getClassLoader();
    }

    /** Applies the missing versions and returns the schema version now in force. */
    public int migrate(DataSource dataSource) throws SQLException {
        List<Migration> migrations = readIndex();
        try (Connection c = dataSource.getConnection()) {
            dialect.beginWrite(c);
            try {
                dialect.lockForMigration(c);
                exec(c, "CREATE TABLE IF NOT EXISTS schema_version ("
                        + "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)");
                int current = currentVersion(c);
                for (Migration m : migrations) {
                    if (m.version() <= current) {
                        continue;
                    }
                    for (String sql : readStatements(m)) {
                        exec(c, sql);
                    }
                    try (PreparedStatement st = c.prepareStatement(
                            "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)")) {
                        st.setInt(1, m.version());
                        st.setString(2, m.name());
                        st.setLong(3, System.currentTimeMillis());
                        st.executeUpdate();
                    }
                    log.info("Applied schema version {} ({}) on {}", m.version(), m.name(), dialect.name());
                    current = m.version();
                }
                dialect.commit(c);
                return current;
            } catch (SQLException | RuntimeException e) {
                dialect.rollback(c);
                throw e;
            }
        }
    }

    private static int currentVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT COALESCE(MAX(version), 0) FROM schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private List<Migration> readIndex() {
        List<Migration> result = new ArrayList<>();
        for (String line : read("db/migrations.txt").split("\n")) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            String[] parts = trimmed.split("\\s+");
            result.add(new Migration(Integer.parseInt(parts[0]), parts[1]));
        }
        return result;
    }

    private List<String> readStatements(Migration m) {
        String script = read("db/" + dialect.name() + "/V" + m.version() + "__" + m.name() + ".sql");
        List<String> statements = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : script.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("--") || trimmed.isEmpty()) {
                continue;
            }
            current.append(line).append('\n');
            if (trimmed.endsWith(";")) {
                statements.add(current.toString().strip().replaceAll(";$", ""));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            statements.add(current.toString().strip());
        }
        return statements;
    }

    private String read(String name) {
        try (InputStream in = resources.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing schema resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read schema resource " + name, e);
        }
    }

    private record Migration(int version, String name) {
    }
}
