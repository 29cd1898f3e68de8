package io.fulcrum.node.config;

import io.fulcrum.config.ConfigProblems;
import io.fulcrum.config.Field.Reload;
import io.fulcrum.config.FieldTable;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Section;
import io.fulcrum.config.YamlMapper.Values;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Reads a node's YAML file into a {@link NodeConfig}.
 *
 * <p>The file is read through the shared {@link YamlMapper} and the field tables below ({@link #SCHEMA}):
 * unknown keys, YAML tags, wrong types and out-of-range values are errors naming the YAML path and
 * line, with a "did you mean" for near-miss keys, and all problems are reported together. Plain
 * scalars are taken by their source text, so {@code region: no} is the region "no" (never YAML
 * 1.1's {@code false}). {@code config/node.schema.json} is generated from the same tables.
 * Secrets need not live in the file: {@code FULCRUM_DB_URL}, {@code FULCRUM_DB_USER} and
 * {@code FULCRUM_DB_PASSWORD} override the PostgreSQL settings (a {@code FULCRUM_DB_URL} of
 * {@code jdbc:postgresql:...} also switches an SQLite node to PostgreSQL), and
 * {@code FULCRUM_DB_REPLICA_URL} sets {@code store.replica.url}.
 *
 * <p>The primary is given either as {@code store.url}/{@code user}/{@code password} or as the section
 * {@code store.primary}, not both; {@code store.replica} names the node's streaming replica.
 *
 * <p>Stateless and thread-safe; the environment is passed in so tests need not mutate the process's.
 */
public final class NodeConfigLoader {
    /** Environment variable overriding {@code store.url}. */
    public static final String ENV_DB_URL = "FULCRUM_DB_URL";
    /** Environment variable overriding {@code store.user}. */
    public static final String ENV_DB_USER = "FULCRUM_DB_USER";
    /** Environment variable overriding {@code store.password}. */
    public static final String ENV_DB_PASSWORD = "FULCRUM_DB_PASSWORD";
    /** Environment variable overriding {@code store.replica.url}. */
    public static final String ENV_DB_REPLICA_URL = "FULCRUM_DB_REPLICA_URL";

    private static final String PORT_DOC = "TCP port (0 picks a free one)";
    private static final FieldTable LISTEN = FieldTable.builder("Where the node serves its API")
            .reload(Reload.START_ONLY)
            .string("host", "0.0.0.0", "Address to bind")
            .requiredInteger("port", 0, 65535, PORT_DOC)
            .build();
    private static final FieldTable ADMIN = FieldTable.builder("Where the node serves /metrics, apart from the API port")
            .reload(Reload.START_ONLY)
            .string("host", "127.0.0.1", "Address to bind")
            .requiredInteger("port", 0, 65535, PORT_DOC + "; not the API port")
            .build();
    private static final FieldTable PRIMARY = FieldTable.builder("The PostgreSQL primary (instead of store.url/user/password)")
            .reload(Reload.START_ONLY)
            .string("url", null, "JDBC URL, jdbc:postgresql://...; env FULCRUM_DB_URL overrides")
            .string("user", null, "Database user; env FULCRUM_DB_USER overrides")
            .string("password", null, "Database password; env FULCRUM_DB_PASSWORD overrides")
            .build();
    private static final FieldTable REPLICA = FieldTable.builder("A streaming replica that serves reads")
            .reload(Reload.START_ONLY)
            .string("url", null, "JDBC URL, jdbc:postgresql://...; env FULCRUM_DB_REPLICA_URL overrides")
            .string("user", null, "Database user (default: the primary's)")
            .string("password", null, "Database password (default: the primary's)")
            .duration("max-lag", ReplicaConfig.DEFAULT_MAX_LAG, false,
                    "Replay lag above which reads go to the primary (at least check-interval)")
            .duration("read-your-writes-wait", ReplicaConfig.DEFAULT_CATCH_UP_WAIT, false,
                    "How long a read after the client's own write waits for the replica (0-10s)")
            .duration("check-interval", ReplicaConfig.DEFAULT_CHECK_INTERVAL, false,
                    "How often the replica's lag is measured (10ms-60s)")
            .build();
    private static final FieldTable STORE = FieldTable.builder("Where posts are kept")
            .reload(Reload.START_ONLY)
            .oneOf("kind", "sqlite", List.of("sqlite", "postgres"), "Storage engine")
            .string("path", "data/posts.db", "SQLite file")
            .duration("busy-timeout", Duration.ofSeconds(5), false, "SQLite: how long a write waits for the lock")
            .string("url", null, "PostgreSQL JDBC URL, jdbc:postgresql://...; env FULCRUM_DB_URL overrides")
            .string("user", null, "PostgreSQL user; env FULCRUM_DB_USER overrides")
            .string("password", null, "PostgreSQL password; env FULCRUM_DB_PASSWORD overrides")
            .integer("pool-size", 4, 1, 256, "PostgreSQL connections")
            .integer("queue-capacity", 64, 1, Integer.MAX_VALUE, "Requests waiting for a connection before 503")
            .duration("connection-timeout", Duration.ofSeconds(2), false,
                    "How long a request waits for a connection (>= 250ms)")
            .section("primary", PRIMARY, "The primary, instead of url/user/password")
            .section("replica", REPLICA, "A streaming replica (PostgreSQL only)")
            .build();
    private static final FieldTable LIMITS = FieldTable.builder("Request limits")
            .reload(Reload.START_ONLY)
            .integer("max-body-bytes", LimitsConfig.DEFAULTS.maxBodyBytes(), 1, Integer.MAX_VALUE,
                    "Largest request body")
            .integer("max-text-chars", LimitsConfig.DEFAULTS.maxTextChars(), 1, Integer.MAX_VALUE,
                    "Longest post text")
            .integer("max-timeline-limit", LimitsConfig.DEFAULTS.maxTimelineLimit(), 1, Integer.MAX_VALUE,
                    "Largest ?limit= of a timeline")
            .integer("default-timeline-limit", LimitsConfig.DEFAULTS.defaultTimelineLimit(), 1, Integer.MAX_VALUE,
                    "Timeline length without ?limit= (at most max-timeline-limit)")
            .build();
    private static final FieldTable EVENTS = FieldTable.builder("The live timeline feed (GET /events)")
            .reload(Reload.START_ONLY)
            .duration("poll-interval", EventsConfig.DEFAULTS.pollInterval(), false,
                    "How often the node's one watcher reads new posts (>= 10ms)")
            .duration("heartbeat", EventsConfig.DEFAULTS.heartbeat(), false,
                    "Comment sent on an idle stream (at most 60s)")
            .integer("max-streams", EventsConfig.DEFAULTS.maxStreams(), 1, Integer.MAX_VALUE,
                    "Open streams before 503")
            .build();
    /** Every key of a node's file: what {@link #load} reads and {@code config/node.schema.json} describes. */
    public static final FieldTable SCHEMA = FieldTable.builder("A Fulcrum post server node (backend-node)")
            .reload(Reload.START_ONLY)
            .requiredName("id", "The node's name, reported by /health (letters, digits, '.', '_' or '-')")
            .requiredName("region", "The node's region, reported by /health (letters, digits, '.', '_' or '-')")
            .section("listen", LISTEN, "The API listener")
            .section("admin", ADMIN, "The metrics listener (absent: no /metrics)")
            .section("store", STORE, "Where posts are kept")
            .section("limits", LIMITS, "Request limits")
            .section("events", EVENTS, "The live timeline feed")
            .build();

    private final Map<String, String> env;

    /** Creates a loader that applies overrides from {@code env} (usually {@code System.getenv()}). */
    public NodeConfigLoader(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /** Reads and validates {@code file}. */
    public NodeConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException(List.of(file + ": cannot read (" + e.getMessage() + ")"));
        }
        return parse(text, file.toString());
    }

    /** Parses and validates YAML text; {@code source} names it in messages about the text as a whole. */
    public NodeConfig parse(String yaml, String source) throws ConfigException {
        YamlMapper.Document doc;
        try {
            doc = YamlMapper.compose(yaml, source);
        } catch (ConfigProblems e) {
            throw new ConfigException(e.problems());
        }
        if (doc.root() == null) {
            throw new ConfigException(List.of(source + ": empty (expected: a mapping with id, region and listen)"));
        }
        YamlMapper m = new YamlMapper(doc.tagged()).listKnownKeys();
        Section topSection = m.top(doc.root(), SCHEMA);
        if (topSection == null) {
            throw new ConfigException(m.sortedProblems());
        }
        Values top = m.read(topSection, SCHEMA);
        String id = top.name("id");
        String region = top.name("region");
        Values listen = m.read(topSection, "listen", LISTEN);
        String host = listen.string("host");
        int port = listen.integer("port");
        YamlMapper.Entry adminEntry = topSection.get("admin");
        boolean hasAdmin = adminEntry != null && !YamlMapper.isNull(adminEntry.value());
        Values admin = hasAdmin ? m.read(topSection, "admin", ADMIN) : null;
        String adminHost = hasAdmin ? admin.string("host") : null;
        int adminPort = hasAdmin ? admin.integer("port") : -1;
        Values store = m.read(topSection, "store", STORE);
        String kind = store.oneOf("kind");
        String path = store.string("path");
        Duration busyTimeout = store.duration("busy-timeout");
        boolean primarySection = store.has("primary");
        Values primary = primarySection ? m.read(store.section(), "primary", PRIMARY) : null;
        if (primarySection && (store.has("url") || store.has("user") || store.has("password"))) {
            YamlMapper.Entry at = store.section().get("primary");
            m.problem("store.url", at.key(), "give the primary either as store.url/user/password or as store.primary,"
                    + " not both");
        }
        String url = env.getOrDefault(ENV_DB_URL, primarySection ? primary.string("url") : store.string("url"));
        String user = env.getOrDefault(ENV_DB_USER, primarySection ? primary.string("user") : store.string("user"));
        String password = env.getOrDefault(ENV_DB_PASSWORD,
                primarySection ? primary.string("password") : store.string("password"));
        YamlMapper.Entry replicaEntry = store.section().get("replica");
        boolean replicaGiven = (replicaEntry != null && !YamlMapper.isNull(replicaEntry.value()))
                || env.containsKey(ENV_DB_REPLICA_URL);
        Values replica = m.read(store.section(), "replica", REPLICA);
        String replicaUrl = env.getOrDefault(ENV_DB_REPLICA_URL, replica.string("url"));
        String replicaUser = replica.string("user", user);
        String replicaPassword = replica.string("password", password);
        Duration maxLag = replica.duration("max-lag");
        Duration catchUpWait = replica.duration("read-your-writes-wait");
        Duration checkInterval = replica.duration("check-interval");
        int poolSize = store.integer("pool-size");
        int queueCapacity = store.integer("queue-capacity");
        Duration connectionTimeout = store.duration("connection-timeout");
        Values limits = m.read(topSection, "limits", LIMITS);
        int maxBody = limits.integer("max-body-bytes");
        int maxText = limits.integer("max-text-chars");
        int maxLimit = limits.integer("max-timeline-limit");
        int defaultLimit = limits.integer("default-timeline-limit",
                Math.min(LimitsConfig.DEFAULTS.defaultTimelineLimit(), maxLimit));
        Values events = m.read(topSection, "events", EVENTS);
        Duration pollInterval = events.duration("poll-interval");
        Duration heartbeat = events.duration("heartbeat");
        int maxStreams = events.integer("max-streams");

        if (m.hasProblems()) {
            throw new ConfigException(m.sortedProblems());
        }
        List<String> problems = new java.util.ArrayList<>();
        StoreConfig.Kind storeKind = null;
        if (env.containsKey(ENV_DB_URL) && env.get(ENV_DB_URL).startsWith("jdbc:postgresql:")) {
            storeKind = StoreConfig.Kind.POSTGRES;
        } else if ("sqlite".equals(kind)) {
            storeKind = StoreConfig.Kind.SQLITE;
        } else {
            storeKind = StoreConfig.Kind.POSTGRES;
            if (url == null) {
                problems.add((primarySection ? "store.primary.url" : "store.url")
                        + ": required when store.kind is postgres (or set " + ENV_DB_URL + ")");
            }
        }
        if (replicaGiven && replicaUrl == null) {
            problems.add("store.replica.url: required when store.replica is given (or set " + ENV_DB_REPLICA_URL
                    + ")");
        }
        if (replicaGiven && storeKind == StoreConfig.Kind.SQLITE) {
            problems.add("store.replica: only with store.kind postgres (SQLite has no replicas)");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        StoreConfig storeConfig = null;
        LimitsConfig limitsConfig = null;
        ListenConfig listenConfig = null;
        ListenConfig adminConfig = null;
        try {
            listenConfig = new ListenConfig(host, port);
        } catch (IllegalArgumentException e) {
            problems.add("listen." + e.getMessage());
        }
        if (hasAdmin) {
            try {
                adminConfig = new ListenConfig(adminHost, adminPort);
            } catch (IllegalArgumentException e) {
                problems.add("admin." + e.getMessage());
            }
            if (adminConfig != null && port != 0 && adminPort == port) {
                problems.add("admin.port: " + adminPort + " (expected: not listen.port; metrics stay off the API port)");
            }
        }
        ReplicaConfig replicaConfig = null;
        if (replicaGiven) {
            try {
                replicaConfig = new ReplicaConfig(replicaUrl, replicaUser, replicaPassword, maxLag, catchUpWait,
                        checkInterval);
            } catch (IllegalArgumentException e) {
                problems.add("store.replica." + e.getMessage());
            }
        }
        try {
            storeConfig = new StoreConfig(storeKind, Path.of(path), busyTimeout, url, user, password, poolSize,
                    queueCapacity, connectionTimeout, replicaConfig);
        } catch (IllegalArgumentException e) {
            problems.add("store." + e.getMessage());
        }
        try {
            limitsConfig = new LimitsConfig(maxBody, maxText, maxLimit, defaultLimit);
        } catch (IllegalArgumentException e) {
            problems.add("limits." + e.getMessage());
        }
        EventsConfig eventsConfig = null;
        try {
            eventsConfig = new EventsConfig(pollInterval, heartbeat, maxStreams);
        } catch (IllegalArgumentException ex) {
            problems.add("events." + ex.getMessage());
        }
        if (problems.isEmpty()) {
            try {
                return new NodeConfig(id, region, listenConfig, storeConfig, limitsConfig, adminConfig, eventsConfig);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        throw new ConfigException(problems);
    }
}
