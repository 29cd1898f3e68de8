package io.fulcrum.node.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads a node's YAML file into a {@link NodeConfig}.
 *
 * <p>Unknown keys are errors, every problem names its YAML path, and all problems are reported together.
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

    private static final Set<String> TOP_KEYS = Set.of("id", "region", "listen", "admin", "store", "limits",
            "events");
    private static final Set<String> LISTEN_KEYS = Set.of("host", "port");
    private static final Set<String> STORE_KEYS = Set.of("kind", "path", "busy-timeout", "url", "user", "password",
            "pool-size", "queue-capacity", "connection-timeout", "primary", "replica");
    private static final Set<String> PRIMARY_KEYS = Set.of("url", "user", "password");
    private static final Set<String> REPLICA_KEYS = Set.of("url", "user", "password", "max-lag",
            "read-your-writes-wait", "check-interval");
    private static final Set<String> LIMIT_KEYS = Set.of("max-body-bytes", "max-text-chars", "max-timeline-limit",
            "default-timeline-limit");
    private static final Set<String> EVENT_KEYS = Set.of("poll-interval", "heartbeat", "max-streams");

    private final Map<String, String> env;

    /** Creates a loader that applies overrides from {@code env} (usually {@code System.getenv()}). */
    public NodeConfigLoader(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /** Reads and validates {@code file}. */
    public NodeConfig load(Path file) throws ConfigException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
            return fromYaml(root);
        } catch (IOException e) {
            throw new ConfigException(List.of(file + ": cannot read (" + e.getMessage() + ")"));
        } catch (YAMLException e) {
            throw new ConfigException(List.of(file + ": not valid YAML (" + e.getMessage().replace('\n', ' ') + ")"));
        }
    }

    /** Validates an already parsed YAML document (a map). */
    public NodeConfig fromYaml(Object root) throws ConfigException {
        Fields top = new Fields("", root, TOP_KEYS);
        String id = top.string("id", null);
        String region = top.string("region", null);
        Fields listen = top.section("listen", LISTEN_KEYS);
        String host = listen.string("host", "0.0.0.0");
        int port = listen.integer("port", -1);
        boolean hasAdmin = top.has("admin");
        Fields admin = top.section("admin", LISTEN_KEYS);
        String adminHost = admin.string("host", "127.0.0.1");
        int adminPort = admin.integer("port", -1);
        Fields store = top.section("store", STORE_KEYS);
        String kind = store.string("kind", "sqlite");
        String path = store.string("path", "data/posts.db");
        Duration busyTimeout = store.duration("busy-timeout", Duration.ofSeconds(5));
        boolean primarySection = store.has("primary");
        Fields primary = primarySection ? store.section("primary", PRIMARY_KEYS) : store;
        if (primarySection && (store.has("url") || store.has("user") || store.has("password"))) {
            store.problems.add("store.url: give the primary either as store.url/user/password or as store.primary,"
                    + " not both");
        }
        String url = env.getOrDefault(ENV_DB_URL, primary.string("url", null));
        String user = env.getOrDefault(ENV_DB_USER, primary.string("user", null));
        String password = env.getOrDefault(ENV_DB_PASSWORD, primary.string("password", null));
        boolean replicaGiven = store.has("replica") || env.containsKey(ENV_DB_REPLICA_URL);
        Fields replica = store.section("replica", REPLICA_KEYS);
        String replicaUrl = env.getOrDefault(ENV_DB_REPLICA_URL, replica.string("url", null));
        String replicaUser = replica.string("user", user);
        String replicaPassword = replica.string("password", password);
        Duration maxLag = replica.duration("max-lag", ReplicaConfig.DEFAULT_MAX_LAG);
        Duration catchUpWait = replica.duration("read-your-writes-wait", ReplicaConfig.DEFAULT_CATCH_UP_WAIT);
        Duration checkInterval = replica.duration("check-interval", ReplicaConfig.DEFAULT_CHECK_INTERVAL);
        int poolSize = store.integer("pool-size", 4);
        int queueCapacity = store.integer("queue-capacity", 64);
        Duration connectionTimeout = store.duration("connection-timeout", Duration.ofSeconds(2));
        Fields limits = top.section("limits", LIMIT_KEYS);
        LimitsConfig d = LimitsConfig.DEFAULTS;
        int maxBody = limits.integer("max-body-bytes", d.maxBodyBytes());
        int maxText = limits.integer("max-text-chars", d.maxTextChars());
        int maxLimit = limits.integer("max-timeline-limit", d.maxTimelineLimit());
        int defaultLimit = limits.integer("default-timeline-limit", Math.min(d.defaultTimelineLimit(), maxLimit));
        Fields events = top.section("events", EVENT_KEYS);
        EventsConfig ev = EventsConfig.DEFAULTS;
        Duration pollInterval = events.duration("poll-interval", ev.pollInterval());
        Duration heartbeat = events.duration("heartbeat", ev.heartbeat());
        int maxStreams = events.integer("max-streams", ev.maxStreams());

        List<String> problems = top.problems;
        if (id == null) {
            problems.add("id: required");
        }
        if (region == null) {
            problems.add("region: required");
        }
        if (port < 0) {
            problems.add("listen.port: required (expected: 0-65535)");
        }
        if (hasAdmin && adminPort < 0) {
            problems.add("admin.port: required when admin is set (expected: 0-65535)");
        }
        StoreConfig.Kind storeKind = null;
        if (env.containsKey(ENV_DB_URL) && env.get(ENV_DB_URL).startsWith("jdbc:postgresql:")) {
            storeKind = StoreConfig.Kind.POSTGRES;
        } else if ("sqlite".equals(kind)) {
            storeKind = StoreConfig.Kind.SQLITE;
        } else if ("postgres".equals(kind)) {
            storeKind = StoreConfig.Kind.POSTGRES;
            if (url == null) {
                problems.add((primarySection ? "store.primary.url" : "store.url")
                        + ": required when store.kind is postgres (or set " + ENV_DB_URL + ")");
            }
        } else {
            problems.add("store.kind: " + kind + " (expected: sqlite or postgres)");
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

    /** One YAML mapping and the problems found while reading it; shared by its nested sections. */
    private static final class Fields {
        private final String prefix;
        private final Map<String, Object> values;
        private final List<String> problems;

        Fields(String prefix, Object node, Set<String> allowed) {
            this(prefix, node, allowed, new ArrayList<>());
        }

        private Fields(String prefix, Object node, Set<String> allowed, List<String> problems) {
            this.prefix = prefix;
            this.problems = problems;
            this.values = new LinkedHashMap<>();
            if (node == null) {
                return;
            }
            if (!(node instanceof Map<?, ?> map)) {
                problems.add((prefix.isEmpty() ? "(root)" : prefix) + ": expected a mapping");
                return;
            }
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String key = String.valueOf(e.getKey());
                if (!allowed.contains(key)) {
                    problems.add(path(key) + ": unknown key (expected one of " + new java.util.TreeSet<>(allowed) + ")");
                } else {
                    values.put(key, e.getValue());
                }
            }
        }

        private String path(String key) {
            return prefix.isEmpty() ? key : prefix + "." + key;
        }

        boolean has(String key) {
            return values.get(key) != null;
        }

        Fields section(String key, Set<String> allowed) {
            return new Fields(path(key), values.get(key), allowed, problems);
        }

        String string(String key, String fallback) {
            Object v = values.get(key);
            if (v == null) {
                return fallback;
            }
            if (v instanceof String || v instanceof Number || v instanceof Boolean) {
                return String.valueOf(v);
            }
            problems.add(path(key) + ": expected a string");
            return fallback;
        }

        int integer(String key, int fallback) {
            Object v = values.get(key);
            if (v == null) {
                return fallback;
            }
            if (v instanceof Integer i) {
                return i;
            }
            problems.add(path(key) + ": " + v + " (expected: an integer)");
            return fallback;
        }

        Duration duration(String key, Duration fallback) {
            Object v = values.get(key);
            if (v == null) {
                return fallback;
            }
            try {
                return Durations.parse(String.valueOf(v));
            } catch (IllegalArgumentException e) {
                problems.add(path(key) + ": " + e.getMessage());
                return fallback;
            }
        }
    }
}
