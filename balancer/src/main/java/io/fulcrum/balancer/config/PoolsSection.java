package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Maps the top-level {@code pools} mapping (pool name to its {@code backends} and overrides) into
 * {@link PoolConfig}s. A pool's {@code routing}, {@code health}, {@code outlier}, {@code retry}
 * and {@code timeouts} start from the top-level values, key by key, so a default is written in one
 * place. Read through the static {@link #read}, like every section; each read works on an instance
 * of its own, confined to the loading thread like the {@link Mapper} it reports to.
 */
final class PoolsSection {
    /** The top-level sections a pool inherits from. */
    record Inherited(RoutingConfig routing, HealthConfig health, OutlierConfig outlier, RetryConfig retry,
            TimeoutsConfig timeouts, BackendProtocol protocol) {
    }

    private final Mapper m;
    private final Inherited top;

    private PoolsSection(Mapper mapper, Inherited top) {
        this.m = mapper;
        this.top = top;
    }

    /**
     * Every pool of the file: {@code implicit} first (the top-level {@code backends} as pool
     * {@value PoolConfig#DEFAULT}, or {@code null} when the file has none), then those of
     * {@code pools} in file order, each starting from {@code inherited}.
     *
     * @param idToPath backend ids already used, with their paths; gets the ids of these pools
     */
    static List<PoolConfig> read(Mapper m, Section file, Inherited inherited, String region, PoolConfig implicit,
            Map<String, String> idToPath) {
        return new PoolsSection(m, inherited).pools(file, region, implicit, idToPath);
    }

    private List<PoolConfig> pools(Section file, String region, PoolConfig implicit, Map<String, String> idToPath) {
        List<PoolConfig> pools = new ArrayList<>();
        if (implicit != null) {
            pools.add(implicit);
        }
        Entry e = file.get("pools");
        if (e == null || !m.checkTag(e.path(), e.value())) {
            return pools;
        }
        if (!(e.value() instanceof MappingNode map)) {
            m.problem(e.path(), e.value(), "expected a mapping of pool names to pools, got " + Mapper.describe(e.value()));
            return pools;
        }
        if (map.getValue().isEmpty()) {
            m.problem(e.path(), e.value(), "at least one pool is required (or leave `pools` out)");
            return pools;
        }
        // Names are checked like keys (plain, unique) but any valid name is allowed.
        Section names = m.anyKeys(map, e.path());
        if (names == null) {
            return pools;
        }
        for (NodeTuple t : map.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode k)) {
                continue;
            }
            String name = k.getValue();
            Entry pool = names.get(name);
            if (pool == null || pool.key() != k) {
                continue; // a duplicate or bad key, already reported
            }
            if (!YamlMapper.ID.matcher(name).matches()) {
                m.problem(pool.path(), k, "not a valid pool name: \"" + name
                        + "\" (expected: letters, digits, '.', '_' or '-')");
                continue;
            }
            if (implicit != null && name.equals(PoolConfig.DEFAULT)) {
                m.problem(pool.path(), k, "pool \"" + PoolConfig.DEFAULT + "\" is already made by the top-level"
                        + " `backends` (move them here, or name this pool otherwise)");
                continue;
            }
            if (!m.checkTag(pool.path(), pool.value())) {
                continue;
            }
            if (!(pool.value() instanceof MappingNode)) {
                m.problem(pool.path(), pool.value(), "expected a mapping with `backends`, got "
                        + Mapper.describe(pool.value()));
                continue;
            }
            Section s = m.section(pool.value(), pool.path(), BalancerSchema.POOL);
            if (s == null) {
                continue;
            }
            DiscoveryConfig discovery = DiscoverySection.read(m, s, "discovery", region);
            List<BackendConfig> backends = DiscoverySection.replacesBackends(s, "discovery") ? List.of()
                    : BackendsSection.read(m, s, region, idToPath);
            Section routingSection = m.subsection(s, "routing", BalancerSchema.ROUTING);
            topLevelOnly(routingSection, BalancerSchema.POOL_ROUTING.keys(), "the listener reads it, before any route is chosen");
            RoutingConfig routing = RoutingSection.read(m, routingSection, top.routing());
            if (s.get("affinity") != null) {
                // A whole block of its own, or `affinity: ~` to turn the inherited one off.
                routing = routing.withAffinity(AffinitySection.read(m, s, "affinity"));
            }
            HealthConfig health = InheritedSection.HEALTH.read(m, s, top.health());
            OutlierConfig outlier = InheritedSection.OUTLIER.read(m, s, top.outlier());
            RetryConfig retry = InheritedSection.RETRY.read(m, s, top.retry());
            Section timeoutsSection = m.subsection(s, "timeouts", BalancerSchema.TIMEOUTS);
            topLevelOnly(timeoutsSection, BalancerSchema.POOL_TIMEOUTS.keys(), "sockets and connection pools are shared by every pool");
            TimeoutsConfig timeouts = InheritedSection.TIMEOUTS.over(m, timeoutsSection, top.timeouts());
            BackendProtocol protocol = ProtocolSection.read(m, s, BalancerSchema.POOL, top.protocol(), backends, health);
            if (!backends.isEmpty() || discovery != null) {
                pools.add(new PoolConfig(name, backends, routing, health, outlier, retry, timeouts, discovery,
                        protocol));
            }
        }
        return pools;
    }

    /**
     * Reports the keys of {@code s} that are valid at the top level but not in a pool, and drops
     * them so that the top-level value applies.
     */
    private void topLevelOnly(Section s, List<String> poolKeys, String why) {
        if (s.entries.isEmpty()) {
            return; // absent or not a mapping (then immutable, and already reported)
        }
        s.entries.entrySet().removeIf(e -> {
            if (poolKeys.contains(e.getKey())) {
                return false;
            }
            m.problem(e.getValue().path(), e.getValue().key(), "set at the top level only (" + why + ")");
            return true;
        });
    }
}
