package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.List;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads who may use the balancer and a route: {@code client-networks} (the top level's and a
 * route's), and a route's {@code basic-auth} and {@code forward-auth} ({@link AuthSection}),
 * {@code cors} ({@link CorsSection}), {@code timeouts} and {@code limits}. Problems are reported
 * through the {@link Mapper}, with the same paths, line numbers and wording as every other section.
 * Stateless.
 */
final class AccessSection {
    private AccessSection() {
    }

    /** The optional {@code client-networks: { allow: [...], deny: [...] }} of {@code parent}; {@code null} when absent. */
    static ClientNetworksConfig clientNetworks(Mapper m, Section parent) {
        Section s = m.optional(parent, "client-networks", AccessSchema.CLIENT_NETWORKS);
        if (s == null || !(s.node instanceof MappingNode)) {
            return null;
        }
        List<Cidr> allow = networks(m, s, "allow");
        List<Cidr> deny = networks(m, s, "deny");
        if (allow == null || deny == null) {
            return null;
        }
        if (allow.isEmpty() && deny.isEmpty()) {
            m.problem(s.path, s.node, "expected allow or deny, e.g. { allow: [10.0.0.0/8] } or { deny: [192.0.2.0/24] }");
            return null;
        }
        return new ClientNetworksConfig(allow, deny);
    }

    /** A list of networks, empty when absent; {@code null} after reporting a problem. */
    private static List<Cidr> networks(Mapper m, Section s, String key) {
        Entry e = s.get(key);
        if (e == null || Mapper.isNull(e.value())) {
            return List.of();
        }
        return m.checkTag(e.path(), e.value()) ? TrustedEdgesSection.networks(m, e) : null;
    }

    /** A route's client networks, authentication and CORS; {@link RouteAccessConfig#NONE} when it has none. */
    static RouteAccessConfig route(Mapper m, Section route, RouteAction action) {
        ClientNetworksConfig networks = clientNetworks(m, route);
        BasicAuthConfig basic = AuthSection.basic(m, route);
        ForwardAuthConfig forward = AuthSection.forward(m, route);
        CorsConfig cors = CorsSection.read(m, route);
        if (action != null && RouteAction.pools(action).isEmpty()) {
            for (String key : List.of("basic-auth", "forward-auth")) {
                Entry e = route.get(key);
                if (e != null && !Mapper.isNull(e.value())) {
                    m.problem(e.path(), e.key(), "only a route to a pool authenticates (expected: pool, or no " + key
                            + ")");
                    return RouteAccessConfig.NONE;
                }
            }
        }
        if (networks == null && basic == null && forward == null && cors == null) {
            return RouteAccessConfig.NONE;
        }
        return new RouteAccessConfig(networks, basic, forward, cors);
    }

    /** A route's {@code timeouts} and {@code limits}; {@link RouteLimitsConfig#NONE} when it has neither. */
    static RouteLimitsConfig limits(Mapper m, Section route, RouteAction action) {
        Section t = m.optional(route, "timeouts", BalancerSchema.POOL_TIMEOUTS);
        Section l = m.optional(route, "limits", AccessSchema.ROUTE_LIMITS);
        if (t == null && l == null) {
            return RouteLimitsConfig.NONE;
        }
        if (action != null && RouteAction.pools(action).isEmpty()) {
            Entry e = route.get(t != null ? "timeouts" : "limits");
            m.problem(e.path(), e.key(), "only a route to a pool waits for a backend (expected: pool, or no "
                    + (t != null ? "timeouts" : "limits") + ")");
            return RouteLimitsConfig.NONE;
        }
        SectionValues tv = t == null ? null : m.read(t, BalancerSchema.POOL_TIMEOUTS);
        long maxResponse = RouteLimitsConfig.INHERIT;
        if (l != null && l.get("max-response-bytes") != null) {
            maxResponse = m.longInteger(l, "max-response-bytes", 0, 0, Long.MAX_VALUE);
        }
        return new RouteLimitsConfig(tv == null || !tv.has("response") ? null : tv.duration("response"),
                tv == null || !tv.has("queue") ? null : tv.duration("queue"), maxResponse);
    }

    /**
     * The list of RFC 9110 tokens (methods, header names) at {@code key}, empty when absent; a
     * {@code "*"} entry is kept when {@code star} allows it. Problems are reported, the bad entries left out.
     */
    static List<String> tokens(Mapper m, Section s, String key, String what, boolean star) {
        Entry e = s.get(key);
        List<String> out = new ArrayList<>();
        if (e == null || !m.checkTag(e.path(), e.value()) || Mapper.isNull(e.value())) {
            return out;
        }
        if (!(e.value() instanceof SequenceNode seq)) {
            m.problem(e.path(), e.value(), "expected a list of " + what + "s, got " + Mapper.describe(e.value()));
            return out;
        }
        for (int i = 0; i < seq.getValue().size(); i++) {
            Entry item = new Entry(e.path() + "[" + i + "]", e.key(), seq.getValue().get(i));
            String text = m.scalarText(item, "a " + what);
            if (text == null) {
                continue;
            }
            if (!(star && text.equals("*")) && !ConfigLoader.TOKEN.matcher(text).matches()) {
                m.problem(item.path(), item.value(), "not a valid " + what + ": \"" + text + "\" (expected: an RFC 9110"
                        + " token" + (star ? ", or *" : "") + ")");
                continue;
            }
            out.add(text);
        }
        return out;
    }
}
