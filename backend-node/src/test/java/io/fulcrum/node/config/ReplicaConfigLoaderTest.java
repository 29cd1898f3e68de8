package io.fulcrum.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replication topology in the node's YAML: {@code store.primary} and {@code store.replica}. */
class ReplicaConfigLoaderTest {
    private static final String HEAD = "id: eu-1\nregion: eu-west\nlisten: { port: 9003 }\n";

    @TempDir
    Path dir;

    private NodeConfig load(String yaml, Map<String, String> env) throws Exception {
        Path file = dir.resolve("node.yaml");
        Files.writeString(file, HEAD + yaml);
        return new NodeConfigLoader(env).load(file);
    }

    private List<String> problems(String yaml) throws Exception {
        return assertThrows(NodeConfigException.class, () -> load(yaml, Map.of())).problems();
    }

    @Test
    void readsAPrimaryAndAReplicaWithTheirFreshnessSettings() throws Exception {
        StoreConfig s = load("store:\n  kind: postgres\n"
                + "  primary: { url: 'jdbc:postgresql://db-primary/posts', user: app, password: secret }\n"
                + "  replica: { url: 'jdbc:postgresql://db-eu/posts', max-lag: 2s, read-your-writes-wait: 100ms,"
                + " check-interval: 50ms }\n", Map.of()).store();
        assertEquals("jdbc:postgresql://db-primary/posts", s.url());
        assertEquals("app", s.user());
        ReplicaConfig r = s.replica();
        assertEquals("jdbc:postgresql://db-eu/posts", r.url());
        assertEquals("app", r.user(), "the replica's user defaults to the primary's");
        assertEquals("secret", r.password());
        assertEquals(Duration.ofSeconds(2), r.maxLag());
        assertEquals(Duration.ofMillis(100), r.catchUpWait());
        assertEquals(Duration.ofMillis(50), r.checkInterval());
        assertFalse(s.toString().contains("secret"), "passwords never show in logs: " + s);
    }

    @Test
    void theFlatUrlStillNamesThePrimaryAndTheReplicaHasDefaults() throws Exception {
        StoreConfig s = load("store: { kind: postgres, url: 'jdbc:postgresql://db/posts',"
                + " replica: { url: 'jdbc:postgresql://copy/posts', user: reader } }\n", Map.of()).store();
        assertEquals("jdbc:postgresql://db/posts", s.url());
        assertEquals("reader", s.replica().user());
        assertEquals(ReplicaConfig.DEFAULT_MAX_LAG, s.replica().maxLag());
        assertEquals(ReplicaConfig.DEFAULT_CATCH_UP_WAIT, s.replica().catchUpWait());
    }

    @Test
    void withoutAReplicaEveryReadGoesToThePrimaryAsBefore() throws Exception {
        assertNull(load("store: { kind: postgres, url: 'jdbc:postgresql://db/posts' }\n", Map.of()).store().replica());
        assertNull(load("", Map.of()).store().replica());
    }

    @Test
    void theEnvironmentCanNameTheReplica() throws Exception {
        StoreConfig s = load("store: { kind: postgres, url: 'jdbc:postgresql://db/posts' }\n",
                Map.of(NodeConfigLoader.ENV_DB_REPLICA_URL, "jdbc:postgresql://copy/posts")).store();
        assertEquals("jdbc:postgresql://copy/posts", s.replica().url());
    }

    @Test
    void rejectsBadTopologiesNamingTheField() throws Exception {
        assertTrue(problems("store: { kind: sqlite, replica: { url: 'jdbc:postgresql://copy/posts' } }\n")
                .contains("store.replica: only with store.kind postgres (SQLite has no replicas)"));
        assertTrue(problems("store: { kind: postgres, url: 'jdbc:postgresql://a/p',"
                + " primary: { url: 'jdbc:postgresql://b/p' } }\n")
                .get(0).startsWith("store.url: give the primary either"));
        assertTrue(problems("store: { kind: postgres, primary: { user: app } }\n")
                .contains("store.primary.url: required when store.kind is postgres (or set FULCRUM_DB_URL)"));
        assertTrue(problems("store: { kind: postgres, url: 'jdbc:postgresql://a/p', replica: { max-lag: 1s } }\n")
                .get(0).startsWith("store.replica.url: required"));
        assertTrue(problems("store: { kind: postgres, url: 'jdbc:postgresql://a/p', replica: { url: 'mysql://x' } }\n")
                .get(0).startsWith("store.replica.url: mysql://x"));
        assertTrue(problems("store: { kind: postgres, url: 'jdbc:postgresql://a/p',"
                + " replica: { url: 'jdbc:postgresql://b/p', max-lag: 10ms, check-interval: 1s } }\n")
                .get(0).startsWith("store.replica.max-lag: "));
        assertTrue(problems("store: { kind: postgres, url: 'jdbc:postgresql://a/p',"
                + " replica: { url: 'jdbc:postgresql://b/p', lag: 1s } }\n")
                .get(0).startsWith("store.replica.lag: unknown key"));
        assertTrue(problems("store: { kind: postgres, url: 'jdbc:postgresql://a/p',"
                + " replica: { url: 'jdbc:postgresql://b/p', read-your-writes-wait: forever } }\n")
                .get(0).startsWith("store.replica.read-your-writes-wait: "));
    }
}
