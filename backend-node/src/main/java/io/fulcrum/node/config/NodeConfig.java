package io.fulcrum.node.config;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * The whole configuration of one post server node, as read from its YAML file.
 *
 * @param id the node's name, reported by {@code /health} (for example {@code us-1})
 * @param region the region the node runs in, reported by {@code /health} (for example {@code us-east})
 * @param admin where the node serves {@code /metrics}, apart from the API port that the balancer
 *     exposes; null when the node serves no metrics
 * @param events the live timeline feed ({@code GET /events})
 *
 * <p>Immutable and thread-safe.
 */
public record NodeConfig(String id, String region, NodeListenConfig listen, StoreConfig store, NodeLimitsConfig limits,
        NodeListenConfig admin, EventsConfig events) {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    /** Validates the configuration. */
    public NodeConfig {
        requireNonNull(id, "id");
        requireNonNull(region, "region");
        requireNonNull(listen, "listen");
        requireNonNull(store, "store");
        requireNonNull(limits, "limits");
        requireNonNull(events, "events");
        if (!NAME.matcher(id).matches()) {
            throw new IllegalArgumentException("id: " + id + " (expected: letters, digits, '.', '_' or '-')");
        }
        if (!NAME.matcher(region).matches()) {
            throw new IllegalArgumentException("region: " + region + " (expected: letters, digits, '.', '_' or '-')");
        }
    }

    /** A node with the default live feed. */
    public NodeConfig(String id, String region, NodeListenConfig listen, StoreConfig store, NodeLimitsConfig limits,
            NodeListenConfig admin) {
        this(id, region, listen, store, limits, admin, EventsConfig.DEFAULTS);
    }

    /** A node without an admin port (no {@code /metrics}). */
    public NodeConfig(String id, String region, NodeListenConfig listen, StoreConfig store, NodeLimitsConfig limits) {
        this(id, region, listen, store, limits, null);
    }

    /** Returns a copy listening on {@code port}. */
    public NodeConfig withPort(int port) {
        return new NodeConfig(id, region, listen.withPort(port), store, limits, admin, events);
    }

    /** Returns a copy with another store. */
    public NodeConfig withStore(StoreConfig newStore) {
        return new NodeConfig(id, region, listen, newStore, limits, admin, events);
    }

    /** Returns a copy with other limits. */
    public NodeConfig withLimits(NodeLimitsConfig newLimits) {
        return new NodeConfig(id, region, listen, store, newLimits, admin, events);
    }

    /** Returns a copy with another live feed. */
    public NodeConfig withEvents(EventsConfig newEvents) {
        return new NodeConfig(id, region, listen, store, limits, admin, newEvents);
    }

    /** Returns a copy serving {@code /metrics} on {@code newAdmin} (null: nowhere). */
    public NodeConfig withAdmin(NodeListenConfig newAdmin) {
        return new NodeConfig(id, region, listen, store, limits, newAdmin, events);
    }
}
