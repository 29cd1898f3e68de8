package io.fulcrum.node.config;

import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Section;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the {@code store} section: the engine, SQLite's file, PostgreSQL's primary (as
 * {@code url}/{@code user}/{@code password} or as {@code primary}, not both) and connection pool, and
 * the replica ({@link ReplicaSection}). {@code FULCRUM_DB_URL}, {@code FULCRUM_DB_USER} and
 * {@code FULCRUM_DB_PASSWORD} override the primary's settings; a {@code FULCRUM_DB_URL} of
 * {@code jdbc:postgresql:...} also makes an SQLite node a PostgreSQL one. Immutable.
 *
 * @param kind the engine, from the file or the environment
 * @param kindFromFile whether {@code kind} is the file's (the environment's URL does not decide it)
 * @param primarySection whether the primary is given as {@code store.primary}
 * @param path SQLite's file
 * @param busyTimeout how long an SQLite write waits for the lock
 * @param url the primary's JDBC URL
 * @param user the primary's user
 * @param password the primary's password
 * @param poolSize PostgreSQL connections
 * @param queueCapacity requests waiting for a connection
 * @param connectionTimeout how long a request waits for a connection
 * @param replica the replica
 */
record StoreSection(StoreConfig.Kind kind, boolean kindFromFile, boolean primarySection, String path,
        Duration busyTimeout, String url, String user, String password, int poolSize, int queueCapacity,
        Duration connectionTimeout, ReplicaSection replica) {
    /** The top-level {@code store}, with the environment's overrides; its problems go to {@code m}. */
    static StoreSection read(YamlMapper m, Section top, Map<String, String> env) {
        SectionValues store = m.read(top, "store", NodeSchema.STORE);
        String kind = store.oneOf("kind");
        String path = store.string("path");
        Duration busyTimeout = store.duration("busy-timeout");
        boolean primarySection = store.has("primary");
        SectionValues primary = primarySection ? m.read(store.section(), "primary", NodeSchema.PRIMARY) : null;
        if (primarySection && (store.has("url") || store.has("user") || store.has("password"))) {
            m.problem("store.url", store.section().get("primary").key(),
                    "give the primary either as store.url/user/password or as store.primary, not both");
        }
        SectionValues given = primarySection ? primary : store;
        String url = env.getOrDefault(NodeConfigLoader.ENV_DB_URL, given.string("url"));
        String user = env.getOrDefault(NodeConfigLoader.ENV_DB_USER, given.string("user"));
        String password = env.getOrDefault(NodeConfigLoader.ENV_DB_PASSWORD, given.string("password"));
        ReplicaSection replica = ReplicaSection.read(m, store, env, user, password);
        boolean envPostgres = env.containsKey(NodeConfigLoader.ENV_DB_URL)
                && env.get(NodeConfigLoader.ENV_DB_URL).startsWith("jdbc:postgresql:");
        StoreConfig.Kind engine = !envPostgres && "sqlite".equals(kind) ? StoreConfig.Kind.SQLITE
                : StoreConfig.Kind.POSTGRES;
        return new StoreSection(engine, !envPostgres, primarySection, path, busyTimeout, url, user, password,
                store.integer("pool-size"), store.integer("queue-capacity"), store.duration("connection-timeout"),
                replica);
    }

    /** The rules between the store's keys and the environment that it breaks, one message each, without lines. */
    List<String> brokenRules() {
        List<String> problems = new ArrayList<>();
        if (kindFromFile && kind == StoreConfig.Kind.POSTGRES && url == null) {
            problems.add((primarySection ? "store.primary.url" : "store.url")
                    + ": required when store.kind is postgres (or set " + NodeConfigLoader.ENV_DB_URL + ")");
        }
        if (replica.given() && replica.url() == null) {
            problems.add("store.replica.url: required when store.replica is given (or set "
                    + NodeConfigLoader.ENV_DB_REPLICA_URL + ")");
        }
        if (replica.given() && kind == StoreConfig.Kind.SQLITE) {
            problems.add("store.replica: only with store.kind postgres (SQLite has no replicas)");
        }
        return problems;
    }

    /** The store, or null with its records' problems (the replica's first) added to {@code problems}. */
    StoreConfig config(List<String> problems) {
        ReplicaConfig replicaConfig = replica.config(problems);
        return NodeConfigLoader.create(problems, "store.", () -> new StoreConfig(kind, Path.of(path), busyTimeout, url,
                user, password, poolSize, queueCapacity, connectionTimeout, replicaConfig));
    }
}
