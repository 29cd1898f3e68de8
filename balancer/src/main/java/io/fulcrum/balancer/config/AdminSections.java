package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * What guards and explains the balancer to its operator: the admin port's token
 * ({@code admin.token}, {@code admin.token-file}) and the {@code decision-header}. Problems are
 * reported through the {@link Mapper}, with the same paths, line numbers and wording as every
 * other section.
 */
final class AdminSections {

    private AdminSections() {
    }

    /** {@code admin.token} or {@code admin.token-file} (read now; surrounding white space dropped). */
    static AdminTokenConfig adminToken(Mapper m, Section admin) {
        Entry t = admin.get("token");
        Entry f = admin.get("token-file");
        if (t != null && f != null) {
            m.problem(f.path(), f.value(), "set either admin.token or admin.token-file, not both");
            return AdminTokenConfig.NONE;
        }
        if (t != null) {
            String token = m.scalarText(t, "a token");
            if (token == null) {
                return AdminTokenConfig.NONE;
            }
            if (token.strip().length() < 16) {
                m.problem(t.path(), t.value(), "too short (expected: at least 16 characters)");
                return AdminTokenConfig.NONE;
            }
            return new AdminTokenConfig(token.strip(), "admin.token");
        }
        if (f != null) {
            String file = m.scalarText(f, "a file path");
            if (file == null) {
                return AdminTokenConfig.NONE;
            }
            String token;
            try {
                token = Files.readString(Path.of(file)).strip();
            } catch (IOException | InvalidPathException | UncheckedIOException ex) {
                m.problem(f.path(), f.value(), "cannot read \"" + file + "\": " + ex.getMessage());
                return AdminTokenConfig.NONE;
            }
            if (token.length() < 16) {
                m.problem(f.path(), f.value(), "the token in \"" + file + "\" is too short (expected: at least 16 characters)");
                return AdminTokenConfig.NONE;
            }
            return new AdminTokenConfig(token, file);
        }
        return AdminTokenConfig.NONE;
    }

    /** The optional {@code decision-header: { request: X-Fulcrum-Debug, trusted: [127.0.0.0/8] }}. */
    static DecisionHeaderConfig decisionHeader(Mapper m, Section top) {
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
