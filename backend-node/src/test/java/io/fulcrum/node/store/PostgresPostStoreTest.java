package io.fulcrum.node.store;

import io.fulcrum.node.config.StoreConfig;
import io.fulcrum.testing.PostgresSupport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The store contract on the real PostgreSQL, in a schema of its own that is dropped afterwards.
 * Skipped with a message when PostgreSQL is unreachable, failed instead when FULCRUM_REQUIRE_POSTGRES=1.
 */
class PostgresPostStoreTest extends PostStoreContract {
    private static PostgresSupport postgres;

    @BeforeAll
    static void createSchema() {
        postgres = PostgresSupport.createSchema();
    }

    @AfterAll
    static void dropSchema() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @Override
    protected void resetDatabase() throws Exception {
        try (Connection c = DriverManager.getConnection(postgres.url(), postgres.user(), postgres.password());
                Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS posts");
            st.execute("DROP TABLE IF EXISTS schema_version");
        }
    }

    @Override
    protected PostStore openStore(Clock clock) {
        StoreConfig config = StoreConfig.postgres(postgres.url(), postgres.user(), postgres.password());
        return PostStores.open(config, "test", new SimpleMeterRegistry(), clock);
    }
}
