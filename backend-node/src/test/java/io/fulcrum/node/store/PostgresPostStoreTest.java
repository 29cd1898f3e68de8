package io.fulcrum.node.store;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fulcrum.node.config.StoreConfig;
import io.fulcrum.testing.PostgresSupport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.opentest4j.TestAbortedException;

/**
 * The store contract on the real PostgreSQL, in a schema of its own that is dropped afterwards.
 * Skipped with a message when PostgreSQL is unreachable, failed instead when FULCRUM_REQUIRE_POSTGRES=1.
 */
class PostgresPostStoreTest extends PostStoreContract {
    private static PostgresSupport postgres;
    private static String skipReason;

    @BeforeAll
    static void createSchema() {
        try {
            postgres = PostgresSupport.createSchema();
        } catch (TestAbortedException e) {
            // Reported per test below, so the skip and its reason show in every report.
            skipReason = e.getMessage();
        }
    }

    @AfterAll
    static void dropSchema() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @Override
    protected void resetDatabase() throws Exception {
        assumeTrue(postgres != null, skipReason);
        try (Connection c = DriverManager.getConnection(postgres.url(), postgres.user(), postgres.password());
                Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS posts");
            st.execute("DROP TABLE IF EXISTS post_changes");
            st.execute("DROP TABLE IF EXISTS schema_version");
        }
    }

    @Override
    protected PostStore openStore(Clock clock) {
        StoreConfig config = StoreConfig.postgres(postgres.url(), postgres.user(), postgres.password());
        return PostStores.open(config, "test", new SimpleMeterRegistry(), clock);
    }
}
