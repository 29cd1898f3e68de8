package io.fulcrum.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * Gives a test class its own schema in the PostgreSQL at 127.0.0.1:5432 (database {@code test}, or
 * {@code FULCRUM_TEST_PG_URL}) and drops it afterwards. When the server cannot be reached the calling
 * test is skipped with a clear message, unless {@code FULCRUM_REQUIRE_POSTGRES=1}, which CI sets:
 * then it fails.
 *
 * <p>Not thread safe; one instance per test class.
 */
public final class PostgresSupport implements AutoCloseable {
    private static final String DEFAULT_URL = "jdbc:postgresql://127.0.0.1:5432/test";

    private final String url;
    private final String user;
    private final String password;
    private final String schema;

    private PostgresSupport(String url, String user, String password, String schema) {
        this.url = url;
        this.user = user;
        this.password = password;
        this.schema = schema;
    }

    /** Connects, creates a fresh schema, or skips (or fails in CI) when PostgreSQL is unreachable. */
    public static PostgresSupport createSchema() {
        String url = env("FULCRUM_TEST_PG_URL", DEFAULT_URL);
        String password = env("FULCRUM_TEST_PG_PASSWORD", "");
        String schema = "fulcrum_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)
                .toLowerCase(Locale.ROOT);
        SQLException last = null;
        for (String user : candidateUsers()) {
            try (Connection c = DriverManager.getConnection(url + "?connectTimeout=3", user, password);
                    Statement st = c.createStatement()) {
                st.execute("CREATE SCHEMA " + schema);
                return new PostgresSupport(url, user, password, schema);
            } catch (SQLException e) {
                last = e;
            }
        }
        String message = "PostgreSQL not reachable at " + url + " (" + (last == null ? "?" : last.getMessage()) + ")";
        if ("1".equals(System.getenv("FULCRUM_REQUIRE_POSTGRES"))) {
            fail(message + "; FULCRUM_REQUIRE_POSTGRES=1 makes this a failure");
        }
        abort("Skipping: " + message + "; set FULCRUM_REQUIRE_POSTGRES=1 to make this a failure");
        throw new IllegalStateException("unreachable");
    }

    private static String[] candidateUsers() {
        String configured = System.getenv("FULCRUM_TEST_PG_USER");
        return configured != null ? new String[] {configured} : new String[] {"postgres", "root"};
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    /** A JDBC URL whose connections use this class's schema. */
    public String url() {
        return url + "?currentSchema=" + schema;
    }

    /** The user that created the schema. */
    public String user() {
        return user;
    }

    /** The password (often empty: trust authentication on loopback). */
    public String password() {
        return password;
    }

    /** Drops the schema and everything in it. */
    @Override
    public void close() throws SQLException {
        try (Connection c = DriverManager.getConnection(url, user, password);
                Statement st = c.createStatement()) {
            st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }
}
