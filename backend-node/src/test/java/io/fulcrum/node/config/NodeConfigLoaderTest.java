package io.fulcrum.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class NodeConfigLoaderTest {
    @TempDir
    Path dir;

    private NodeConfig load(String yaml, Map<String, String> env) throws Exception {
        Path file = dir.resolve("node.yaml");
        Files.writeString(file, yaml);
        return new NodeConfigLoader(env).load(file);
    }

    private List<String> problems(String yaml) throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, yaml);
        return assertThrows(NodeConfigException.class, () -> new NodeConfigLoader(Map.of()).load(file)).problems();
    }

    @Test
    void readsAnSqliteNodeWithDefaults() throws Exception {
        NodeConfig c = load("id: us-1\nregion: us-east\nlisten: { port: 9001 }\n", Map.of());
        assertEquals("us-1", c.id());
        assertEquals("us-east", c.region());
        assertEquals(new NodeListenConfig("0.0.0.0", 9001), c.listen());
        assertEquals(StoreConfig.Kind.SQLITE, c.store().kind());
        assertEquals(Path.of("data/posts.db"), c.store().sqlitePath());
        assertEquals(Duration.ofSeconds(5), c.store().busyTimeout());
        assertEquals(NodeLimitsConfig.DEFAULTS, c.limits());
        assertEquals(4096, c.limits().maxTextChars());
    }

    @Test
    void theAdminPortIsOptionalDefaultsToLoopbackAndNeverSharesTheApiPort() throws Exception {
        assertEquals(null, load("id: a\nregion: r\nlisten: { port: 9001 }\n", Map.of()).admin());
        assertEquals(new NodeListenConfig("127.0.0.1", 9101),
                load("id: a\nregion: r\nlisten: { port: 9001 }\nadmin: { port: 9101 }\n", Map.of()).admin());
        assertEquals(new NodeListenConfig("0.0.0.0", 9101),
                load("id: a\nregion: r\nlisten: { port: 9001 }\nadmin: { host: 0.0.0.0, port: 9101 }\n", Map.of())
                        .admin());
    }

    @Test
    void readsAPostgresNodeAndLetsTheEnvironmentOverrideSecrets() throws Exception {
        String yaml = "id: eu-1\nregion: eu-west\nlisten: { host: 127.0.0.1, port: 9003 }\n"
                + "store: { kind: postgres, url: 'jdbc:postgresql://db:5432/posts', user: app, password: file-secret,"
                + " pool-size: 16, queue-capacity: 100, connection-timeout: 500ms }\n"
                + "limits: { max-body-bytes: 1000, max-text-chars: 280, max-timeline-limit: 50, default-timeline-limit: 25 }\n";
        NodeConfig fromFile = load(yaml, Map.of());
        assertEquals("jdbc:postgresql://db:5432/posts", fromFile.store().url());
        assertEquals("file-secret", fromFile.store().password());
        assertEquals(16, fromFile.store().poolSize());
        assertEquals(Duration.ofMillis(500), fromFile.store().connectionTimeout());
        assertEquals(new NodeLimitsConfig(1000, 280, 50, 25), fromFile.limits());
        assertFalse(fromFile.store().toString().contains("file-secret"), "the password never shows in logs");

        NodeConfig overridden = load(yaml, Map.of(NodeConfigLoader.ENV_DB_URL, "jdbc:postgresql://other/db",
                NodeConfigLoader.ENV_DB_USER, "env-user", NodeConfigLoader.ENV_DB_PASSWORD, "env-secret"));
        assertEquals("jdbc:postgresql://other/db", overridden.store().url());
        assertEquals("env-user", overridden.store().user());
        assertEquals("env-secret", overridden.store().password());
    }

    @Test
    void aPostgresUrlInTheEnvironmentSwitchesAnSqliteNode() throws Exception {
        NodeConfig c = load("id: a\nregion: r\nlisten: { port: 1 }\n",
                Map.of(NodeConfigLoader.ENV_DB_URL, "jdbc:postgresql://127.0.0.1/test"));
        assertEquals(StoreConfig.Kind.POSTGRES, c.store().kind());
    }

    @Test
    void theLiveFeedHasDefaultsAndItsOwnProblems() throws Exception {
        assertEquals(io.fulcrum.node.config.EventsConfig.DEFAULTS,
                load("id: a\nregion: r\nlisten: { port: 9001 }\n", Map.of()).events());
        assertEquals(new io.fulcrum.node.config.EventsConfig(Duration.ofMillis(200), Duration.ofSeconds(5), 50),
                load("id: a\nregion: r\nlisten: { port: 9001 }\n"
                        + "events: { poll-interval: 200ms, heartbeat: 5s, max-streams: 50 }\n", Map.of()).events());
        List<String> problems = problems("id: a\nregion: r\nlisten: { port: 9001 }\n"
                + "events: { heartbeat: often, max-streams: 0, colour: blue }\n");
        assertTrue(problems.stream().anyMatch(p -> p.equals("events.heartbeat: \"often\" is not a duration like 250ms, 2s, 1m (line 4)")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("events.colour: unknown key")), problems.toString());
    }

    @Test
    void reportsEveryProblemWithItsPath() throws Exception {
        List<String> problems = problems("region: us-east\nlisten: { port: 70000, colour: blue }\n"
                + "store: { kind: oracle, pool-size: 0, busy-timeout: soon }\nextra: 1\n");
        assertTrue(problems.contains("id: required (line 1)"), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("listen.colour: unknown key")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("extra: unknown key")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.equals("store.kind: unknown value \"oracle\" (expected: sqlite, postgres) (line 3)")), problems.toString());
        assertTrue(problems.stream().anyMatch(p -> p.startsWith("store.busy-timeout: \"soon\" is not a duration")),
                problems.toString());
    }

    /** A file's first problem, in full: the key's path, what is wrong with it, what was expected and where. */
    @ParameterizedTest
    @MethodSource("firstProblems")
    void reportsTheFirstProblemNamingTheKey(String yaml, String problem) throws Exception {
        assertEquals(problem, problems(yaml).get(0));
    }

    static Stream<Arguments> firstProblems() {
        String node = "id: a\nregion: r\nlisten: { port: 9001 }\n";
        return Stream.of(
                arguments("id: a\nregion: r\nlisten: { port: 70000 }\n",
                        "listen.port: out of range: 70000 (expected: 0-65535) (line 3)"),
                arguments("id: a\nregion: r\nlisten: { port: '80' }\n",
                        "listen.port: expected an integer, got \"80\" (line 3)"),
                arguments("id: 'bad id'\nregion: r\nlisten: { port: 1 }\n",
                        "id: not a valid id: \"bad id\" (expected: letters, digits, '.', '_' or '-') (line 1)"),
                arguments("- a list\n", "(top level): expected a mapping, got a list (line 1)"),
                arguments(node + "admin: { host: 127.0.0.1 }\n",
                        "admin.port: required (expected: 0-65535) (line 4)"),
                arguments(node + "admin: { port: 9001 }\n",
                        "admin.port: 9001 (expected: not listen.port; metrics stay off the API port)"),
                arguments(node + "admin: { port: 70000 }\n",
                        "admin.port: out of range: 70000 (expected: 0-65535) (line 4)"),
                arguments(node + "admin: { port: 1, path: /m }\n",
                        "admin.path: unknown key (expected one of: host, port) (line 4)"),
                arguments(node + "store: { pool-size: 0 }\n",
                        "store.pool-size: out of range: 0 (expected: 1-256) (line 4)"),
                arguments(node + "store: { kind: postgres }\n",
                        "store.url: required when store.kind is postgres (or set FULCRUM_DB_URL)"),
                arguments(node + "limits: { max-text-chars: 0 }\n",
                        "limits.max-text-chars: out of range: 0 (expected: >= 1) (line 4)"),
                arguments(node + "events: { max-streams: 0 }\n",
                        "events.max-streams: out of range: 0 (expected: >= 1) (line 4)"),
                arguments(node + "events: { poll-interval: 1ms }\n",
                        "events.poll-interval: 1ms (expected: >= 10ms)"));
    }

    @Test
    void scalarsAreReadByTheirTextAndNeverChangeType() throws Exception {
        // YAML 1.1 would read `no` as false; the node, like the balancer, takes the text as written.
        assertEquals("no", load("id: a\nregion: no\nlisten: { port: 9001 }\n", Map.of()).region());
        assertEquals(List.of("admin.port: expected an integer, got 9101.5 (line 4)"),
                problems("id: a\nregion: r\nlisten: { port: 9001 }\nadmin: { port: 9101.5 }\n"));
        assertEquals(List.of("region: YAML tags are not allowed (found tag:yaml.org,2002:str) (line 2)"),
                problems("id: a\nregion: !!str r\nlisten: { port: 9001 }\n"));
        assertEquals(List.of("listen.port: required (expected: 0-65535) (line 3)",
                        "listen.prot: unknown key, did you mean \"port\"? (line 3)"),
                problems("id: a\nregion: r\nlisten: { prot: 9001 }\n"));
        assertEquals(List.of("listen: duplicate key, first at line 3 (line 4)"),
                problems("id: a\nregion: r\nlisten: { port: 9001 }\nlisten: { port: 9002 }\n"));
    }

    @Test
    void rejectsMalformedYaml() throws Exception {
        assertTrue(problems("id: [unclosed\n").get(0).contains("not valid YAML"));
    }

    @Test
    void theShippedLocalClusterFilesLoad() throws Exception {
        Path config = Path.of("..", "config");
        NodeConfigLoader loader = new NodeConfigLoader(Map.of());
        NodeConfig us1 = loader.load(config.resolve("node-us-1.yaml"));
        NodeConfig us2 = loader.load(config.resolve("node-us-2.yaml"));
        NodeConfig eu1 = loader.load(config.resolve("node-eu-1.yaml"));
        assertEquals(List.of(9001, 9002, 9003), List.of(us1.listen().port(), us2.listen().port(), eu1.listen().port()));
        assertEquals(List.of("us-east", "us-east", "eu-west"), List.of(us1.region(), us2.region(), eu1.region()));
        assertEquals(us1.store().sqlitePath(), eu1.store().sqlitePath(), "one shared file");
    }
}
