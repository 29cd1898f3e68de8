package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads a route's {@code cors}. Problems are reported through the {@link Mapper}, with the same
 * paths, line numbers and wording as every other section. Stateless.
 */
final class CorsSection {
    /**
     * An origin as a browser serializes it (RFC 6454 section 6.2): scheme, {@code ://}, host and an
     * optional port, nothing after; {@code *} may stand in the host and port.
     */
    private static final Pattern ORIGIN = Pattern.compile("[a-z][a-z0-9+.-]*://[a-z0-9.*\\[\\]:_-]+");

    private CorsSection() {
    }

    /** The route's optional {@code cors}; {@code null} when absent or after reporting a problem. */
    static CorsConfig read(Mapper m, Section route) {
        Section s = m.optional(route, "cors", AccessSchema.CORS);
        if (s == null || !(s.node instanceof MappingNode)) {
            return null;
        }
        int before = m.problems.size();
        SectionValues v = m.read(s, AccessSchema.CORS);
        List<String> origins = origins(m, s);
        List<String> methods = AccessSection.tokens(m, s, "allow-methods", "method", false);
        List<String> headers = AccessSection.tokens(m, s, "allow-headers", "header name", true);
        List<String> expose = AccessSection.tokens(m, s, "expose-headers", "header name", false);
        boolean credentials = v.bool("allow-credentials");
        Duration maxAge = s.get("max-age") == null ? null : v.duration("max-age");
        if (credentials && origins != null && origins.contains("*")) {
            Entry c = s.get("allow-credentials");
            m.problem(c.path(), c.value(), "true with allow-origins * would let every site read answers made with its"
                    + " users' cookies (expected: the origins listed, or allow-credentials false)");
        }
        if (origins == null || m.problems.size() != before) {
            return null;
        }
        return new CorsConfig(origins, methods, headers, expose, credentials, maxAge);
    }

    /** {@code allow-origins}, required; {@code null} after reporting a problem. */
    private static List<String> origins(Mapper m, Section s) {
        Entry e = s.get("allow-origins");
        if (e == null || Mapper.isNull(e.value())) {
            m.problem(s.child("allow-origins"), e == null ? s.node : e.value(),
                    "required (expected: a list such as [\"https://app.example.com\"], or [\"*\"])");
            return null;
        }
        if (!m.checkTag(e.path(), e.value())) {
            return null;
        }
        if (!(e.value() instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
            m.problem(e.path(), e.value(), "expected a non-empty list of origins, got " + Mapper.describe(e.value()));
            return null;
        }
        List<String> out = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < seq.getValue().size(); i++) {
            Entry item = new Entry(e.path() + "[" + i + "]", e.key(), seq.getValue().get(i));
            String text = m.scalarText(item, "an origin");
            if (text == null) {
                ok = false;
            } else if (text.equals("*") && seq.getValue().size() > 1) {
                m.problem(item.path(), item.value(), "* allows every origin, so it stands alone (expected: [\"*\"], or"
                        + " the origins without it)");
                ok = false;
            } else if (!text.equals("*") && !ORIGIN.matcher(text).matches()) {
                m.problem(item.path(), item.value(), "not an origin: \"" + text + "\" (expected: scheme://host[:port]"
                        + " in lower case without a path, such as https://app.example.com or https://*.example.com)");
                ok = false;
            } else {
                out.add(text);
            }
        }
        return ok ? out : null;
    }
}
