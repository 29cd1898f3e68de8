package io.fulcrum.node.config;

import io.fulcrum.config.Field.Reload;
import io.fulcrum.config.FieldTable;
import java.time.Duration;
import java.util.List;

/**
 * Every key of a node's YAML file, declared once: type, default, range and a one-line description.
 * {@link NodeConfigLoader} checks keys (and reads the plain values) through these tables, one
 * {@code <Key>Section} type per top-level key, and {@code config/node.schema.json} is generated from
 * them ({@link io.fulcrum.config.JsonSchemas}). Rules between keys stay in the sections.
 *
 * <p>Immutable and thread-safe.
 */
final class NodeSchema {
    private static final String PORT_DOC = "TCP port (0 picks a free one)";
    static final FieldTable LISTEN = FieldTable.builder("Where the node serves its API")
            .reload(Reload.START_ONLY)
            .string("host", "0.0.0.0", "Address to bind")
            .requiredInteger("port", 0, 65535, PORT_DOC)
            .build();
    static final FieldTable ADMIN = FieldTable.builder("Where the node serves /metrics, apart from the API port")
            .reload(Reload.START_ONLY)
            .string("host", "127.0.0.1", "Address to bind")
            .requiredInteger("port", 0, 65535, PORT_DOC + "; not the API port")
            .build();
    static final FieldTable PRIMARY = server("The PostgreSQL primary (instead of store.url/user/password)",
            "FULCRUM_DB_URL", "; env FULCRUM_DB_USER overrides", "; env FULCRUM_DB_PASSWORD overrides")
            .build();
    static final FieldTable REPLICA = server("A streaming replica that serves reads",
            "FULCRUM_DB_REPLICA_URL", " (default: the primary's)", " (default: the primary's)")
            .duration("max-lag", ReplicaConfig.DEFAULT_MAX_LAG, false,
                    "Replay lag above which reads go to the primary (at least check-interval)")
            .duration("read-your-writes-wait", ReplicaConfig.DEFAULT_CATCH_UP_WAIT, false,
                    "How long a read after the client's own write waits for the replica (0-10s)")
            .duration("check-interval", ReplicaConfig.DEFAULT_CHECK_INTERVAL, false,
                    "How often the replica's lag is measured (10ms-60s)")
            .build();
    static final FieldTable STORE = FieldTable.builder("Where posts are kept")
            .reload(Reload.START_ONLY)
            .oneOf("kind", "sqlite", List.of("sqlite", "postgres"), "Storage engine")
            .string("path", "data/posts.db", "SQLite file")
            .duration("busy-timeout", Duration.ofSeconds(5), false, "SQLite: how long a write waits for the lock")
            .string("url", null, "PostgreSQL JDBC URL, jdbc:postgresql://...; env FULCRUM_DB_URL overrides")
            .string("user", null, "PostgreSQL user; env FULCRUM_DB_USER overrides")
            .string("password", null, "PostgreSQL password; env FULCRUM_DB_PASSWORD overrides")
            .integer("pool-size", 4, 1, 256, "PostgreSQL connections")
            .positiveInteger("queue-capacity", 64, "Requests waiting for a connection before 503")
            .duration("connection-timeout", Duration.ofSeconds(2), false,
                    "How long a request waits for a connection (>= 250ms)")
            .section("primary", PRIMARY, "The primary, instead of url/user/password")
            .section("replica", REPLICA, "A streaming replica (PostgreSQL only)")
            .build();
    static final FieldTable LIMITS = FieldTable.builder("Request limits")
            .reload(Reload.START_ONLY)
            .positiveInteger("max-body-bytes", NodeLimitsConfig.DEFAULTS.maxBodyBytes(), "Largest request body")
            .positiveInteger("max-text-chars", NodeLimitsConfig.DEFAULTS.maxTextChars(), "Longest post text")
            .positiveInteger("max-timeline-limit", NodeLimitsConfig.DEFAULTS.maxTimelineLimit(),
                    "Largest ?limit= of a timeline")
            .positiveInteger("default-timeline-limit", NodeLimitsConfig.DEFAULTS.defaultTimelineLimit(),
                    "Timeline length without ?limit= (at most max-timeline-limit)")
            .build();
    static final FieldTable EVENTS = FieldTable.builder("The live timeline feed (GET /events)")
            .reload(Reload.START_ONLY)
            .duration("poll-interval", EventsConfig.DEFAULTS.pollInterval(), false,
                    "How often the node's one watcher reads new posts (>= 10ms)")
            .duration("heartbeat", EventsConfig.DEFAULTS.heartbeat(), false,
                    "Comment sent on an idle stream (at most 60s)")
            .positiveInteger("max-streams", EventsConfig.DEFAULTS.maxStreams(), "Open streams before 503")
            .build();
    /** Every key of a node's file: what {@link NodeConfigLoader#load} reads and {@code config/node.schema.json} describes. */
    static final FieldTable FILE = FieldTable.builder("A Fulcrum post server node (backend-node)")
            .reload(Reload.START_ONLY)
            .requiredName("id", "The node's name, reported by /health (letters, digits, '.', '_' or '-')")
            .requiredName("region", "The node's region, reported by /health (letters, digits, '.', '_' or '-')")
            .section("listen", LISTEN, "The API listener")
            .section("admin", ADMIN, "The metrics listener (absent: no /metrics)")
            .section("store", STORE, "Where posts are kept")
            .section("limits", LIMITS, "Request limits")
            .section("events", EVENTS, "The live timeline feed")
            .build();

    private NodeSchema() {
    }

    /**
     * The keys every PostgreSQL server of a store has: its JDBC URL, which the environment variable
     * {@code urlEnv} overrides, and its user and password, whose descriptions end with the notes given.
     */
    private static FieldTable.Builder server(String description, String urlEnv, String userNote,
            String passwordNote) {
        return FieldTable.builder(description)
                .reload(Reload.START_ONLY)
                .string("url", null, "JDBC URL, jdbc:postgresql://...; env " + urlEnv + " overrides")
                .string("user", null, "Database user" + userNote)
                .string("password", null, "Database password" + passwordNote);
    }
}
