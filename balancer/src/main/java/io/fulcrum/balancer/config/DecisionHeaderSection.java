package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.List;

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
        Section s = m.optional(top, "decision-header", BalancerSchema.DECISION_HEADER);
        if (s == null) {
            return null;
        }
        String request = m.headerName(s, "request");
        if (request == null) {
            if (s.get("request") == null) {
                m.problem(s.child("request"), s.node, "required (expected: a header name such as X-Fulcrum-Debug)");
            }
            return null;
        }
        List<Cidr> trusted = DecisionHeaderConfig.LOOPBACK;
        Entry t = s.get("trusted");
        if (t != null && m.checkTag(t.path(), t.value()) && !Mapper.isNull(t.value())) {
            trusted = TrustedEdgesSection.networks(m, t);
            if (trusted == null) {
                return null;
            }
        }
        return new DecisionHeaderConfig(request, trusted);
    }
}
