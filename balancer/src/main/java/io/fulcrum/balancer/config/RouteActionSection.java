package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads what a route does besides sending to a pool: its {@code redirect} or {@code respond}
 * answer, and the {@code rewrite} of the path of a route to a pool. Problems are reported through
 * the {@link Mapper}, with the same paths, line numbers and wording as every other section.
 * Stateless.
 */
final class RouteActionSection {
    /** The placeholders of a redirect's {@code to}. */
    static final List<String> PLACEHOLDERS = List.of("scheme", "host", "path", "query");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]*)\\}");

    private RouteActionSection() {
    }

    /** A {@code redirect} section, found at {@code at}; {@code null} after reporting a problem. */
    static RouteAction redirect(Mapper m, Section s, Entry at) {
        int status = m.integer(s, "status", 302, 100, 999);
        Entry st = s.get("status");
        boolean ok = true;
        if (st != null && !RouteAction.REDIRECT_STATUSES.contains(status)) {
            m.problem(st.path(), st.value(), "not a redirect status: " + status + " (expected: 301, 302, 307 or 308)");
            ok = false;
        }
        Entry to = s.get("to");
        if (to == null) {
            m.problem(s.child("to"), at.value(), "required (expected: a URL template such as"
                    + " https://{host}{path}{query})");
            return null;
        }
        String template = m.scalarText(to, "a URL template");
        if (template == null) {
            return null;
        }
        Matcher pm = PLACEHOLDER.matcher(template);
        while (pm.find()) {
            if (!PLACEHOLDERS.contains(pm.group(1))) {
                m.problem(to.path(), to.value(), "unknown placeholder {" + pm.group(1) + "}"
                        + YamlMapper.hint(pm.group(1), PLACEHOLDERS) + " (expected: {scheme}, {host}, {path}, {query})");
                ok = false;
            }
        }
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                m.problem(to.path(), to.value(), "a Location must not contain spaces or control characters");
                ok = false;
                break;
            }
        }
        return ok ? new RouteAction.Redirect(status, template) : null;
    }

    /** A {@code respond} section: status, body and content type of the answer. */
    static RouteAction respond(Mapper m, Section s) {
        SectionValues v = m.read(s, RouteSchema.RESPOND);
        int status = v.integer("status");
        String body = "";
        Entry b = s.get("body");
        if (b != null && m.checkTag(b.path(), b.value())) {
            if (b.value() instanceof ScalarNode sn && !Mapper.isNull(b.value())) {
                body = sn.getValue();
            } else {
                m.problem(b.path(), b.value(), "expected a string, got " + Mapper.describe(b.value()));
            }
        }
        String type = v.string("content-type");
        Entry t = s.get("content-type");
        if (t != null && !HeaderEditsSection.validValue(type)) {
            m.problem(t.path(), t.value(), "not a valid header value: \"" + type + "\"");
        }
        return new RouteAction.Respond(status, body, type);
    }

    /**
     * A {@code rewrite} section, found at {@code at} (or absent: {@code null}), of a route with
     * {@code match} and {@code action} (null when the action has a problem).
     */
    static RewriteConfig rewrite(Mapper m, Section s, Entry at, RouteMatchConfig match, RouteAction action) {
        if (at == null || s.entries.isEmpty()) {
            return null;
        }
        if (s.entries.size() > 1) {
            Entry second = new ArrayList<>(s.entries.values()).get(1);
            m.problem(second.path(), second.key(), "a rewrite is one of strip-prefix or replace-prefix, not both");
            return null;
        }
        if (match.path() == null || match.path().kind() != PathMatchConfig.Kind.PREFIX) {
            m.problem(at.path(), at.key(), "needs a route with match.path.prefix (the prefix it replaces)");
            return null;
        }
        if (action != null && RouteAction.pools(action).isEmpty()) {
            m.problem(at.path(), at.key(), "only a route to a pool rewrites the path");
            return null;
        }
        Entry strip = s.get("strip-prefix");
        if (strip != null) {
            return m.read(s, RouteSchema.REWRITE).bool("strip-prefix") ? new RewriteConfig("") : null;
        }
        Entry replace = s.get("replace-prefix");
        String text = m.scalarText(replace, "a path prefix");
        if (text == null) {
            return null;
        }
        if (!Mapper.isRequestTarget(text) || text.indexOf('?') >= 0) {
            m.problem(replace.path(), replace.value(), "not a path prefix: \"" + text
                    + "\" (expected: starting with /, without a query, spaces or control characters)");
            return null;
        }
        return new RewriteConfig(text);
    }
}
