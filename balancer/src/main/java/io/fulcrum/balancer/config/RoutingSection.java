package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a {@code routing} section, the top level's or a pool's, whose unset keys keep the values it
 * inherits, and checks at the end that every spillover region has a backend. The spillover entries
 * and the backends' regions are gathered in the {@link Mapper}, which sees the whole file. Stateless.
 */
final class RoutingSection {
    private RoutingSection() {
    }

    /** The top-level {@code routing}, over {@link RoutingConfig#DEFAULT}; a region header needs trusted edges. */
    static RoutingConfig read(Mapper m, Section top) {
        Section s = m.subsection(top, "routing", BalancerSchema.ROUTING);
        RoutingConfig routing = read(m, s, RoutingConfig.DEFAULT);
        if (routing.regionHeader() != null) {
            TrustedEdgesSection.checkRegionHeader(m, top, s);
        }
        return routing;
    }

    /** A routing section; every key it does not set keeps its value in {@code defaults}. */
    static RoutingConfig read(Mapper m, Section s, RoutingConfig defaults) {
        String policyName = m.read(s, BalancerSchema.ROUTING).oneOf("policy", defaults.policy().yamlName(), "policy");
        RoutingConfig.Policy policy = java.util.Arrays.stream(RoutingConfig.Policy.values())
                .filter(v -> v.yamlName().equals(policyName)).findFirst().orElseThrow();
        String regionHeader = s.get("region-header") == null ? defaults.regionHeader() : m.headerName(s, "region-header");
        Section sp = m.subsection(s, "spillover", BalancerSchema.SPILLOVER);
        double saturation = m.number(sp, "saturation", defaults.spillover().saturation(), 0, true, 1);
        List<String> order = new ArrayList<>(inheritedOrder(sp, defaults));
        Entry o = sp.get("order");
        if (o != null && m.checkTag(o.path(), o.value()) && !Mapper.isNull(o.value())) {
            order.clear();
            if (o.value() instanceof SequenceNode seq) {
                Set<String> seen = new HashSet<>();
                List<Node> items = seq.getValue();
                for (int i = 0; i < items.size(); i++) {
                    Entry item = new Entry(o.path() + "[" + i + "]", o.key(), items.get(i));
                    String region = m.nameValue(item);
                    if (region != null) {
                        if (!seen.add(region)) {
                            m.problem(item.path(), item.value(), "region \"" + region + "\" is listed twice");
                        } else {
                            order.add(region);
                            m.spilloverOrder.add(item);
                        }
                    }
                }
            } else {
                m.problem(o.path(), o.value(), "expected a list of region names, got " + Mapper.describe(o.value()));
            }
        }
        Duration slowStart = m.read(s, BalancerSchema.ROUTING).duration("slow-start", defaults.slowStart());
        return new RoutingConfig(policy, regionHeader, new SpilloverConfig(saturation, order), slowStart,
                defaults.affinity(), leastBusy(m, s, defaults.leastBusy()));
    }

    /** The {@code least-busy} subsection over the inherited knobs. */
    private static LeastBusyConfig leastBusy(Mapper m, Section s, LeastBusyConfig defaults) {
        Section lb = m.subsection(s, "least-busy", BalancerSchema.LEAST_BUSY);
        SectionValues v = m.read(lb, BalancerSchema.LEAST_BUSY);
        return new LeastBusyConfig(v.integer("exact-max", defaults.exactMax()), v.integer("choices", defaults.choices()),
                m.number(lb, "error-weight", defaults.errorWeight(), 0, false, Double.MAX_VALUE));
    }

    /** The inherited spillover order, unless the section sets its own (even to nothing). */
    private static List<String> inheritedOrder(Section sp, RoutingConfig defaults) {
        return sp.get("order") == null ? defaults.spillover().order() : List.of();
    }

    /** A spillover region no backend is in is almost certainly a typo: it would never be used. */
    static void checkSpilloverRegions(Mapper m) {
        Set<String> regions = m.backendRegions;
        if (regions.isEmpty()) {
            return;
        }
        for (Entry e : m.spilloverOrder) {
            String region = Mapper.scalar(e.value());
            if (!regions.contains(region)) {
                m.problem(e.path(), e.value(), "no backend is in region \"" + region + "\"" + Mapper.hint(region, regions));
            }
        }
    }
}
