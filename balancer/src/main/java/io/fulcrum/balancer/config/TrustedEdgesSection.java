package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads the {@code trusted-edges} section, the proxies in front whose word about the client is
 * taken, and checks what depends on it ({@code routing.region-header}). Problems are reported
 * through the {@link Mapper}, with the same paths, line numbers and wording as every other section.
 * Stateless.
 */
final class TrustedEdgesSection {
    private TrustedEdgesSection() {
    }

    /** The optional {@code trusted-edges: { networks: [...], forwarded-for: true, proxy-protocol: off }}. */
    static TrustedEdgesConfig read(Mapper m, Section top) {
        Section s = m.optional(top, "trusted-edges", BalancerSchema.TRUSTED_EDGES);
        if (s == null || !(s.node instanceof MappingNode)) {
            return null;
        }
        List<Cidr> networks = requiredNetworks(m, s, "networks", s.node);
        SectionValues v = m.read(s, BalancerSchema.TRUSTED_EDGES);
        boolean forwardedFor = v.bool("forwarded-for");
        String protocol = v.oneOf("proxy-protocol");
        TrustedEdgesConfig.ProxyProtocol proxyProtocol = Arrays.stream(TrustedEdgesConfig.ProxyProtocol.values())
                .filter(pp -> pp.yamlName().equals(protocol)).findFirst().orElseThrow();
        if (!forwardedFor && proxyProtocol == TrustedEdgesConfig.ProxyProtocol.OFF && s.get("forwarded-for") != null) {
            Entry f = s.get("forwarded-for");
            m.problem(f.path(), f.value(), "false with proxy-protocol off: no peer's word would be taken "
                    + "(expected: forwarded-for true, a proxy-protocol, or no trusted-edges)");
            return null;
        }
        return networks == null ? null : new TrustedEdgesConfig(networks, forwardedFor, proxyProtocol);
    }

    /**
     * A {@code routing.region-header} needs {@code trusted-edges}: the header is believed only from
     * a trusted edge, so without any it would never be, and a file that sets it is refused rather
     * than silently routing every client by {@code region}.
     */
    static void checkRegionHeader(Mapper m, Section top, Section routing) {
        Entry edges = top.get("trusted-edges");
        if (edges != null && !Mapper.isNull(edges.value())) {
            return;
        }
        Entry header = routing.get("region-header");
        if (header != null && !Mapper.isNull(header.value())) {
            m.problem(header.path(), header.value(), "believed only from trusted edges, and there are none"
                    + " (expected: a trusted-edges section naming the proxies that set it, or no region-header)");
        }
    }

    /** A required, non-empty list of networks; {@code null} after reporting a problem. */
    private static List<Cidr> requiredNetworks(Mapper m, Section s, String key, Node sectionNode) {
        Entry t = s.get(key);
        if (t == null || Mapper.isNull(t.value())) {
            m.problem(s.child(key), t == null ? sectionNode : t.value(),
                    "required (expected: a list of networks such as [10.0.0.0/8])");
            return null;
        }
        if (!m.checkTag(t.path(), t.value())) {
            return null;
        }
        List<Cidr> result = networks(m, t);
        if (result != null && result.isEmpty()) {
            m.problem(t.path(), t.value(), "at least one network is required");
            return null;
        }
        return result;
    }

    /**
     * The list of networks at {@code t} (also {@code decision-header.trusted}), possibly empty;
     * {@code null} after reporting a problem.
     */
    static List<Cidr> networks(Mapper m, Entry t) {
        if (!(t.value() instanceof SequenceNode seq)) {
            m.problem(t.path(), t.value(), "expected a list of networks, got " + Mapper.describe(t.value()));
            return null;
        }
        List<Cidr> result = new ArrayList<>();
        boolean ok = true;
        List<Node> items = seq.getValue();
        for (int i = 0; i < items.size(); i++) {
            Entry item = new Entry(t.path() + "[" + i + "]", t.key(), items.get(i));
            String text = m.scalarText(item, "a network such as 10.0.0.0/8");
            if (text == null) {
                ok = false;
                continue;
            }
            try {
                result.add(Cidr.parse(text));
            } catch (IllegalArgumentException ex) {
                m.problem(item.path(), item.value(), ex.getMessage());
                ok = false;
            }
        }
        return ok ? result : null;
    }
}
