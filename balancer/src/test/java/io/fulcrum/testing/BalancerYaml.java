package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import io.fulcrum.balancer.tls.TlsCertificateCheck;
import java.io.StringReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

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
    /** One line of {@code backends}; {@code tls} makes its URL {@code https://}. */
    public record Backend(String id, String host, int port, String region, int weight, int maxInFlight, boolean tls) {
        public Backend {
            requireNonNull(id, "id");
            requireNonNull(host, "host");
        }

        public Backend(String id, String host, int port, String region, int weight, int maxInFlight) {
            this(id, host, port, region, weight, maxInFlight, false);
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
    /** Sections written as they are after the others (pools, routes). */
    private final StringBuilder sections = new StringBuilder();

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
     * For tests of health checks, ejection and retries: active health checks on (at their
     * defaults unless set), connect timeout 500 ms, response timeout 5 s, idle backend connections
     * closed after 10 s, a 1 s drain.
     */
    public static BalancerYaml activeChecks() {
        return create().unset("health.enabled")
                .set("timeouts.connect", "500ms").set("timeouts.response", "5s")
                .set("timeouts.client-idle", "30s").set("timeouts.backend-idle", "10s").set("timeouts.drain", "1s");
    }

    /**
     * {@link #activeChecks()} probing {@code /health} every 100 ms, each within 2 s, a backend up
     * after 2 passed checks and down after 3 failed ones: for tests that wait for health to flip.
     */
    public static BalancerYaml frequentChecks() {
        return activeChecks().merge("health: { path: /health, interval: 100ms, timeout: 2s, rise: 2, fall: 3 }");
    }

    /** Turns active health checks on, one every {@code interval}, each given {@code timeout}. */
    public BalancerYaml checks(String interval, String timeout) {
        return set("health.enabled", "true").set("health.interval", interval).set("health.timeout", timeout);
    }

    /**
     * For the fault tests, a backend killed, hung, paused or flapping under load: least-busy
     * routing, so that a backend that stops answering stops being chosen, and two attempts per
     * request, so that a GET that met the fault is tried again on another backend.
     */
    public static BalancerYaml underFault() {
        return create().set("routing.policy", "least-busy").set("retry.attempts", "2");
    }

    /**
     * For proxy tests: round-robin without slow start, no retries (a retry budget of 100% when a
     * test turns them on), connect 2 s, response 10 s, idle connections 30 s, drain 2 s, at most
     * 1000 client connections, and no backend header.
     */
    public static BalancerYaml forProxy() {
        return create().set("routing.policy", "round-robin").set("routing.slow-start", "0s")
                .set("retry.attempts", "0").set("retry.budget-percent", "100")
                .set("timeouts.connect", "2s").set("timeouts.response", "10s").set("timeouts.client-idle", "30s")
                .set("timeouts.backend-idle", "30s").set("timeouts.drain", "2s")
                .set("limits.max-connections", "1000")
                .unset("backend-header");
    }

    /** Removes a key, so that the loader's default applies. */
    public BalancerYaml unset(String path) {
        return set(path, (String) null);
    }

    /** Sets a duration key, written in milliseconds. */
    public BalancerYaml set(String path, Duration value) {
        return set(path, value.toMillis() + "ms");
    }

    /** Sets a numeric key. */
    public BalancerYaml set(String path, long value) {
        return set(path, Long.toString(value));
    }

    /**
     * Merges YAML sections into this config, key by key (scalars as written, lists in flow style),
     * e.g. {@code "health: { interval: 100ms, rise: 2 }\nretry: { attempts: 2 }"}.
     */
    @SuppressWarnings("unchecked")
    public BalancerYaml merge(String sections) {
        Node root = new Yaml(new SafeConstructor(new LoaderOptions())).compose(new StringReader(sections));
        if (root != null) {
            mergeInto(tree, (Map<String, Object>) toTree(root));
        }
        return this;
    }

    @SuppressWarnings("unchecked")
    private static void mergeInto(Map<String, Object> into, Map<String, Object> from) {
        from.forEach((k, v) -> {
            if (v instanceof Map<?, ?> m && into.get(k) instanceof Map<?, ?> existing) {
                mergeInto((Map<String, Object>) existing, (Map<String, Object>) m);
            } else {
                into.put(k, v);
            }
        });
    }

    private static Object toTree(Node node) {
        if (node instanceof MappingNode m) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (NodeTuple t : m.getValue()) {
                map.put(((ScalarNode) t.getKeyNode()).getValue(), toTree(t.getValueNode()));
            }
            return map;
        }
        if (node instanceof SequenceNode) {
            return flow(node);
        }
        return ((ScalarNode) node).getValue();
    }

    /** A node in YAML flow style; scalars quoted when plain text would read as something else. */
    private static String flow(Node node) {
        if (node instanceof SequenceNode seq) {
            List<String> items = new ArrayList<>();
            seq.getValue().forEach(n -> items.add(flow(n)));
            return "[" + String.join(", ", items) + "]";
        }
        if (node instanceof MappingNode m) {
            List<String> fields = new ArrayList<>();
            for (NodeTuple t : m.getValue()) {
                fields.add(((ScalarNode) t.getKeyNode()).getValue() + ": " + flow(t.getValueNode()));
            }
            return "{ " + String.join(", ", fields) + " }";
        }
        String text = ((ScalarNode) node).getValue();
        // A plain scalar may not start with an indicator (YAML 1.1 §4.2.3; ':' and '?' too, as in
        // "::1/128") nor hold ": ", " #" or, in flow style, ',', ']' and '}'.
        boolean plain = !text.isEmpty() && "*&!%@`'\"{[|>#:?".indexOf(text.charAt(0)) < 0
                && !text.startsWith("- ") && !text.contains(": ") && !text.contains(" #")
                && !text.contains(",") && !text.contains("]") && !text.contains("}");
        return plain ? text : "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Adds each server under its name, in the balancer's region. */
    public BalancerYaml backends(ScriptedBackend... servers) {
        for (ScriptedBackend b : servers) {
            backend(b.name(), b.port());
        }
        return this;
    }

    /** Adds each post server under its id, in the balancer's region. */
    public BalancerYaml backends(NodeProcess... servers) {
        for (NodeProcess n : servers) {
            backend(n.id(), n.port());
        }
        return this;
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

    /** Adds a backend on 127.0.0.1 named {@code b<n>}, n counting from 1. */
    public BalancerYaml backend(int port) {
        return backend("b" + (backends.size() + 1), port);
    }

    /** Adds a backend at {@code host:port} in the balancer's region. */
    public BalancerYaml backend(String id, String host, int port) {
        return backend(new Backend(id, host, port, null, 0, 0));
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

    /**
     * Appends top-level sections written as they are, in block style, e.g. {@code pools:} and
     * {@code routes:} with their contents; with no {@link #backend} added, the file then has no
     * top-level {@code backends}.
     */
    public BalancerYaml append(String yaml) {
        sections.append(yaml.endsWith("\n") ? yaml : yaml + "\n");
        return this;
    }

    /** Removes what {@link #append} added (to build the next config of a reload). */
    public BalancerYaml clearAppended() {
        sections.setLength(0);
        return this;
    }

    /** The YAML text. */
    public String yaml() {
        StringBuilder out = new StringBuilder(512);
        render(tree, "", out);
        out.append(sections);
        if (backends.isEmpty() && sections.length() > 0) {
            return out.toString();
        }
        out.append("backends:\n");
        for (Backend b : backends) {
            out.append("  - { id: ").append(b.id()).append(", url: \"").append(b.tls() ? "https://" : "http://")
                    .append(b.host()).append(':')
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
            return ConfigLoader.parse(yaml(), "test config", TlsCertificateCheck.INSTANCE);
        } catch (ConfigException e) {
            throw new IllegalStateException(e.getMessage() + "\n" + yaml(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static void render(Map<String, Object> node, String indent, StringBuilder out) {
        for (Map.Entry<String, Object> e : node.entrySet()) {
            if (e.getValue() instanceof Map<?, ?> child && child.isEmpty()) {
                continue;
            }
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
