package io.fulcrum.node.config;

import io.fulcrum.config.ConfigProblems;
import io.fulcrum.config.FieldTable;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Section;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Reads a node's YAML file into a {@link NodeConfig}.
 *
 * <p>The file is read through the shared {@link YamlMapper} and the field tables of {@link #SCHEMA},
 * as the balancer reads its own: each top-level key by one section type ({@code listen} by
 * {@code NodeListenSection}, {@code store} by {@code StoreSection}, ...) that checks the keys against
 * the key's table and reads the rules the table cannot say. As there, unknown keys, YAML tags,
 * wrong types and out-of-range values are errors naming the YAML path and line, with a "did you
 * mean" for near-miss keys, and all problems are reported together. Plain
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

    /** Every key of a node's file: what {@link #load} reads and {@code config/node.schema.json} describes. */
    public static final FieldTable SCHEMA = NodeSchema.FILE;

    private final Map<String, String> env;

    /** Creates a loader that applies overrides from {@code env} (usually {@code System.getenv()}). */
    public NodeConfigLoader(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /** Reads and validates {@code file}. */
    public NodeConfig load(Path file) throws NodeConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new NodeConfigException(List.of(file + ": cannot read (" + e.getMessage() + ")"));
        }
        return parse(text, file.toString());
    }

    /** Parses and validates YAML text; {@code source} names it in messages about the text as a whole. */
    public NodeConfig parse(String yaml, String source) throws NodeConfigException {
        YamlMapper.Document doc;
        try {
            doc = YamlMapper.compose(yaml, source);
        } catch (ConfigProblems e) {
            throw new NodeConfigException(e.problems());
        }
        if (doc.root() == null) {
            throw new NodeConfigException(List.of(source + ": empty (expected: a mapping with id, region and listen)"));
        }
        YamlMapper m = new YamlMapper(doc.tagged()).listKnownKeys();
        Section top = m.top(doc.root(), SCHEMA);
        if (top == null) {
            throw new NodeConfigException(m.sortedProblems());
        }
        // Three rounds, each only on a file that passed the one before, so that no rule runs on a
        // default standing in for a bad value: each value on its own (with path and line), the
        // rules between the store's keys, then each record's own rules.
        SectionValues file = m.read(top, SCHEMA);
        String id = file.name("id");
        String region = file.name("region");
        NodeListenSection listen = NodeListenSection.read(m, top);
        NodeListenSection admin = NodeAdminSection.read(m, top);
        StoreSection store = StoreSection.read(m, top, env);
        NodeLimitsSection limits = NodeLimitsSection.read(m, top);
        EventsSection events = EventsSection.read(m, top);
        if (m.hasProblems()) {
            throw new NodeConfigException(m.sortedProblems());
        }
        List<String> problems = store.brokenRules();
        if (!problems.isEmpty()) {
            throw new NodeConfigException(problems);
        }
        NodeListenConfig listenConfig = listen.config(problems);
        NodeListenConfig adminConfig = NodeAdminSection.config(admin, listen, problems);
        StoreConfig storeConfig = store.config(problems);
        NodeLimitsConfig limitsConfig = limits.config(problems);
        EventsConfig eventsConfig = events.config(problems);
        if (problems.isEmpty()) {
            NodeConfig config = create(problems, "",
                    () -> new NodeConfig(id, region, listenConfig, storeConfig, limitsConfig, adminConfig, eventsConfig));
            if (config != null) {
                return config;
            }
        }
        throw new NodeConfigException(problems);
    }

    /**
     * The record {@code create} makes, or null with the message of the rule it breaks added to
     * {@code problems} after {@code path} (the section's path and a dot; the record's message
     * starts with the key).
     */
    static <T> T create(List<String> problems, String path, Supplier<T> create) {
        try {
            return create.get();
        } catch (IllegalArgumentException e) {
            problems.add(path + e.getMessage());
            return null;
        }
    }
}
