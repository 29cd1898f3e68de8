package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.List;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads the {@code decision-header} section, the opt-in debug header that returns the decision
 * trace. Problems are reported through the {@link Mapper}, with the same paths, line numbers and
 * wording as every other section. Stateless.
 */
final class DecisionHeaderSection {
    private DecisionHeaderSection() {
    }

    /** The optional {@code decision-header: { request: X-Fulcrum-Debug, trusted: [127.0.0.0/8] }}. */
    static DecisionHeaderConfig read(Mapper m, Section top) {
        Entry e = top.get("decision-header");
        if (e == null || Mapper.isNull(e.value())) {
            return null;
        }
        Section s = m.subsection(top, "decision-header", BalancerSchema.DECISION_HEADER);
        String request = m.headerName(s, "request");
        if (request == null) {
            if (s.get("request") == null) {
                m.problem(s.child("request"), e.value(), "required (expected: a header name such as X-Fulcrum-Debug)");
            }
            return null;
        }
        List<Cidr> trusted = DecisionHeaderConfig.LOOPBACK;
        Entry t = s.get("trusted");
        if (t != null && m.checkTag(t.path(), t.value()) && !Mapper.isNull(t.value())) {
            if (!(t.value() instanceof SequenceNode seq)) {
                m.problem(t.path(), t.value(), "expected a list of networks, got " + Mapper.describe(t.value()));
                return null;
            }
            trusted = new ArrayList<>();
            List<Node> items = seq.getValue();
            for (int i = 0; i < items.size(); i++) {
                Entry item = new Entry(t.path() + "[" + i + "]", t.key(), items.get(i));
                String text = m.scalarText(item, "a network such as 10.0.0.0/8");
                if (text == null) {
                    continue;
                }
                try {
                    trusted.add(Cidr.parse(text));
                } catch (IllegalArgumentException ex) {
                    m.problem(item.path(), item.value(), ex.getMessage());
                }
            }
        }
        return new DecisionHeaderConfig(request, trusted);
    }
}
