package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a balancer's YAML file for tests, the same text an operator writes, so that a test goes
 * through the loader's validation and defaults and can hand the file to a reload. The defaults
 * suit tests: listen and admin on 127.0.0.1 port 0, region {@code local}, access log off, the
 * backend named in {@value Fixtures#BACKEND_HEADER}, and active health checks off (every request
 * and connection a backend sees comes from traffic) unless {@link #set} turns them on. Any key of
 * {@code config/balancer-reference.yaml} can be set by its dotted path, e.g.
 * {@code set("retry.per-try-timeout", "300ms")}.
 *
 * <p>Not thread safe; build on one thread.
 */
public final class BalancerYaml {
    /** One line of {@code backends}. */
    public record Backend(String id, String host, int port, String region, int weight, int maxInFlight) {
        public Backend {
            requireNonNull(id, "id");
            requireNonNull(host, "host");
        }

        /** {@code server} under its name in {@code region}, default weight and max-in-flight. */
        public static Backend of(ScriptedBackend server, String region) {
            return of(server, region, 0, 0);
        }

        public static Backend of(ScriptedBackend server, String region, int weight, int maxInFlight) {
            return new Backend(server.name(), "127.0.0.1", server.port(), region, weight, maxInFlight);
        }
    }

    private final Map<String, Object> tree = new LinkedHashMap<>();
    private final List<Backend> backends = new ArrayList<>();

    private BalancerYaml() {
        set("listen.host", "127.0.0.1").set("listen.port", "0");
        set("admin.host", "127.0.0.1").set("admin.port", "0");
        set("region", "local");
        set("health.enabled", "false");
        set("access-log", "off");
        set("backend-header", Fixtures.BACKEND_HEADER);
    }

    /** A config with the test defaults and no backends yet. */
    public static BalancerYaml create() {
        return new BalancerYaml();
    }

    /**
     * Sets one key by its dotted path to a YAML value written as is ({@code "2s"},
     * {@code "[eu-west]"}); {@code null} removes it.
     */
    @SuppressWarnings("unchecked")
    public BalancerYaml set(String path, String value) {
        requireNonNull(path, "path");
        String[] parts = path.split("\\.");
        Map<String, Object> node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            node = (Map<String, Object>) node.computeIfAbsent(parts[i], k -> new LinkedHashMap<String, Object>());
        }
        if (value == null) {
            node.remove(parts[parts.length - 1]);
        } else {
            node.put(parts[parts.length - 1], value);
        }
        return this;
    }

    /** Adds a backend on 127.0.0.1 in the balancer's region. */
    public BalancerYaml backend(String id, int port) {
        return backend(id, port, null);
    }

    /** Adds a backend on 127.0.0.1 in {@code region} ({@code null}: the balancer's). */
    public BalancerYaml backend(String id, int port, String region) {
        return backend(new Backend(id, "127.0.0.1", port, region, 1, 0));
    }

    /**
     * A config for routing tests: the balancer in {@code region}, the {@code routing} section's
     * body in flow style (e.g. {@code "policy: least-busy"}), and these backends.
     */
    public static BalancerYaml routing(String region, String routing, List<Backend> backends) {
        BalancerYaml yaml = create().set("region", region).set("routing", "{" + routing + "}");
        backends.forEach(yaml::backend);
        return yaml;
    }

    /** Starts a balancer from this config with two event loops; the caller stops it. */
    public Balancer start() throws InterruptedException {
        return new Balancer(config(), 2).start();
    }

    /** Adds a backend; a weight or max-in-flight of 0 leaves the default. */
    public BalancerYaml backend(Backend b) {
        backends.add(requireNonNull(b, "b"));
        return this;
    }

    /** Removes every backend (to build the next config of a reload). */
    public BalancerYaml clearBackends() {
        backends.clear();
        return this;
    }

    /** The YAML text. */
    public String yaml() {
        StringBuilder out = new StringBuilder(512);
        render(tree, "", out);
        out.append("backends:\n");
        for (Backend b : backends) {
            out.append("  - { id: ").append(b.id()).append(", url: \"http://").append(b.host()).append(':')
                    .append(b.port()).append('"');
            if (b.region() != null) {
                out.append(", region: ").append(b.region());
            }
            if (b.weight() > 0) {
                out.append(", weight: ").append(b.weight());
            }
            if (b.maxInFlight() > 0) {
                out.append(", max-in-flight: ").append(b.maxInFlight());
            }
            out.append(" }\n");
        }
        return out.toString();
    }

    /** The config the loader makes of {@link #yaml()}. */
    public BalancerConfig config() {
        try {
            return ConfigLoader.parse(yaml(), "test config");
        } catch (ConfigException e) {
            throw new IllegalStateException(e.getMessage() + "\n" + yaml(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static void render(Map<String, Object> node, String indent, StringBuilder out) {
        for (Map.Entry<String, Object> e : node.entrySet()) {
            out.append(indent).append(e.getKey()).append(':');
            if (e.getValue() instanceof Map<?, ?> child) {
                out.append('\n');
                render((Map<String, Object>) child, indent + "  ", out);
            } else {
                out.append(' ').append(e.getValue()).append('\n');
            }
        }
    }

    @Override
    public String toString() {
        return yaml();
    }
}
