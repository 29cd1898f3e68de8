package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * The sections about who the client is and how fast it may go: {@code trusted-edges} and
 * {@code rate-limit}. Problems are reported through the {@link Mapper}, with the same paths, line
 * numbers and wording as every other section.
 */
final class EdgeSections {
    private static final Pattern RATE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)/(s|m|h)");
    private static final String RATE_EXPECTED = "a rate such as 100/s, 600/m or 1000/h";
    private static final String KEY_EXPECTED = "client-address or header:NAME";
    static final int MAX_KEYS_LIMIT = 10_000_000;
    static final long MAX_BURST = 1_000_000_000L;

    private EdgeSections() {
    }

    /** The optional {@code trusted-edges: { networks: [...], forwarded-for: true, proxy-protocol: off }}. */
    static TrustedEdgesConfig trustedEdges(Mapper m, Section top) {
        Entry e = top.get("trusted-edges");
        if (e == null || Mapper.isNull(e.value())) {
            return null;
        }
        Section s = m.subsection(top, "trusted-edges", BalancerSchema.TRUSTED_EDGES);
        if (!(e.value() instanceof MappingNode)) {
            return null;
        }
        List<Cidr> networks = networks(m, s, "networks", e.value());
        boolean forwardedFor = m.read(s, BalancerSchema.TRUSTED_EDGES).bool("forwarded-for");
        Mapper.Values v = m.read(s, BalancerSchema.TRUSTED_EDGES);
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

    /** The optional {@code headers: { forwarded: drop, request-id: edges, trace-context: edges }}. */
    static HeadersConfig headers(Mapper m, Section top) {
        Mapper.Values v = m.read(top, "headers", BalancerSchema.HEADERS);
        String forwarded = v.oneOf("forwarded");
        String requestId = v.oneOf("request-id");
        String traceContext = v.oneOf("trace-context");
        return new HeadersConfig(
                Arrays.stream(HeadersConfig.Forwarded.values()).filter(f -> f.yamlName().equals(forwarded))
                        .findFirst().orElse(HeadersConfig.DEFAULT.forwarded()),
                from(requestId, HeadersConfig.DEFAULT.requestId()),
                from(traceContext, HeadersConfig.DEFAULT.traceContext()));
    }

    private static HeadersConfig.From from(String yaml, HeadersConfig.From def) {
        return Arrays.stream(HeadersConfig.From.values()).filter(f -> f.yamlName().equals(yaml)).findFirst()
                .orElse(def);
    }

    /** A required, non-empty list of networks; {@code null} after reporting a problem. */
    private static List<Cidr> networks(Mapper m, Section s, String key, Node sectionNode) {
        Entry t = s.get(key);
        if (t == null || Mapper.isNull(t.value())) {
            m.problem(s.child(key), t == null ? sectionNode : t.value(),
                    "required (expected: a list of networks such as [10.0.0.0/8])");
            return null;
        }
        if (!m.checkTag(t.path(), t.value())) {
            return null;
        }
        if (!(t.value() instanceof SequenceNode seq)) {
            m.problem(t.path(), t.value(), "expected a list of networks, got " + Mapper.describe(t.value()));
            return null;
        }
        if (seq.getValue().isEmpty()) {
            m.problem(t.path(), t.value(), "at least one network is required");
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

    /**
     * An optional {@code rate-limit: { rate: 100/s, burst: 200, key: client-address, max-keys: 100000 }}
     * under {@code parent}; {@code null} when absent or after reporting a problem.
     */
    static RateLimitConfig rateLimit(Mapper m, Section parent, String key) {
        return rateLimit(m, parent, key, false);
    }

    /**
     * As {@link #rateLimit(Mapper, Section, String)}; with {@code offAllowed} (a route's), the
     * word {@code off} is {@link RateLimitConfig#OFF}.
     */
    static RateLimitConfig rateLimit(Mapper m, Section parent, String key, boolean offAllowed) {
        Entry e = parent.get(key);
        if (e == null || Mapper.isNull(e.value())) {
            return null;
        }
        if (offAllowed && e.value() instanceof ScalarNode sn && sn.getValue().equals("off") && m.checkTag(e.path(),
                e.value())) {
            return RateLimitConfig.OFF;
        }
        Section s = m.subsection(parent, key, BalancerSchema.RATE_LIMIT);
        if (!(e.value() instanceof MappingNode)) {
            return null;
        }
        int before = m.problems.size();
        String rateText = null;
        double perSecond = 0;
        Entry r = s.get("rate");
        if (r == null) {
            m.problem(s.child("rate"), e.value(), "required (expected: " + RATE_EXPECTED + ")");
        } else {
            String text = m.scalarText(r, RATE_EXPECTED);
            if (text != null) {
                Matcher matcher = RATE.matcher(text.replace(" ", ""));
                if (!matcher.matches()) {
                    m.problem(r.path(), r.value(), "\"" + text + "\" is not " + RATE_EXPECTED);
                } else {
                    double n = Double.parseDouble(matcher.group(1));
                    double per = switch (matcher.group(2)) {
                        case "s" -> 1;
                        case "m" -> 60;
                        default -> 3600;
                    };
                    if (n <= 0 || n > MAX_BURST) {
                        m.problem(r.path(), r.value(), "out of range: " + text + " (expected: more than 0 and at most "
                                + MAX_BURST + " per unit)");
                    } else {
                        rateText = text;
                        perSecond = n / per;
                    }
                }
            }
        }
        long defaultBurst = Math.max(1, (long) Math.ceil(perSecond));
        Mapper.Values v = m.read(s, BalancerSchema.RATE_LIMIT);
        long burst = v.longInteger("burst", defaultBurst);
        String header = null;
        Entry k = s.get("key");
        if (k != null) {
            String text = m.scalarText(k, KEY_EXPECTED);
            if (text != null) {
                if (text.startsWith("header:")) {
                    String name = text.substring("header:".length()).trim();
                    if (!ConfigLoader.TOKEN.matcher(name).matches()) {
                        m.problem(k.path(), k.value(), "not a valid header name: \"" + name
                                + "\" (expected: header:NAME with an RFC 9110 token as NAME)");
                    } else {
                        header = name;
                    }
                } else if (!text.equals("client-address")) {
                    m.problem(k.path(), k.value(), "unknown key \"" + text + "\""
                            + YamlMapper.hint(text, List.of("client-address")) + " (expected: " + KEY_EXPECTED + ")");
                }
            }
        }
        int maxKeys = v.integer("max-keys");
        if (m.problems.size() != before || rateText == null) {
            return null;
        }
        return new RateLimitConfig(rateText, perSecond, burst, header, maxKeys);
    }
}
