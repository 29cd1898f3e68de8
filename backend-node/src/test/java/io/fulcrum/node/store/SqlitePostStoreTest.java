package io.fulcrum.node.store;

import io.fulcrum.node.config.StoreConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on an SQLite file in a fresh temporary directory per test. */
class SqlitePostStoreTest extends PostStoreContract {
    @TempDir
    Path dir;

    @Override
    protected PostStore openStore(Clock clock) {
        return PostStores.open(StoreConfig.sqlite(dir.resolve("posts.db")), "test", new SimpleMeterRegistry(), clock);
    }
}
