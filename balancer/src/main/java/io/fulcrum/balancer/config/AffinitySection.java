package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Reads an {@code affinity} section (top level, for the default pool) into an {@link AffinityConfig},
 * reporting problems through the {@link ConfigLoader}'s mapper, with the same paths and lines:
 * <pre>
 *   affinity: { cookie: { name: FULCRUM_AFFINITY, secret-file: /etc/fulcrum/affinity.key, max-age: 1h } }
 *   affinity: { hash: { on: header:X-User-Id, balance-factor: 1.25 } }
 * </pre>
 * Stateless.
 */
final class AffinitySection {
    /** Shorter HMAC keys are guessable; 16 characters is what the admin token asks too. */
    static final int MIN_SECRET = 16;
    static final String ON_EXPECTED = "header:NAME, cookie:NAME, path or client-address";

    private AffinitySection() {
    }

    /** The section {@code key} of {@code parent}, or {@code null} when it is absent or null. */
    static AffinityConfig read(Mapper m, Section parent, String key) {
        Section s = m.optional(parent, key, BalancerSchema.AFFINITY);
        if (s == null || m.either(s, "cookie", "hash", "{ cookie: { name: " + AffinityConfig.Cookie.DEFAULT_NAME
                + " } } or { hash: { on: header:X-User-Id } }") == null) {
            return null;
        }
        Entry hash = s.get("hash");
        if (hash == null) {
            AffinityConfig.Cookie c = cookie(m, m.subsection(s, "cookie", BalancerSchema.AFFINITY_COOKIE));
            return c == null ? null : new AffinityConfig(c, null);
        }
        AffinityConfig.Hash h = hash(m, m.subsection(s, "hash", BalancerSchema.AFFINITY_HASH), hash);
        return h == null ? null : new AffinityConfig(null, h);
    }

    private static AffinityConfig.Cookie cookie(Mapper m, Section s) {
        String name = AffinityConfig.Cookie.DEFAULT_NAME;
        Entry n = s.get("name");
        if (n != null && !Mapper.isNull(n.value())) {
            name = m.headerName(s, "name");
            if (name == null) {
                return null;
            }
        }
        byte[] secret = secret(m, s);
        Entry maxAgeEntry = s.get("max-age");
        Duration maxAge = maxAgeEntry == null || Mapper.isNull(maxAgeEntry.value()) ? null
                : m.read(s, BalancerSchema.AFFINITY_COOKIE).duration("max-age");
        if (s.get("secret") != null || s.get("secret-file") != null) {
            if (secret == null) {
                return null;
            }
        }
        return new AffinityConfig.Cookie(name, secret, maxAge);
    }

    /** {@code secret} or {@code secret-file} (read now, surrounding white space dropped), or null. */
    private static byte[] secret(Mapper m, Section s) {
        Entry t = s.get("secret");
        Entry f = s.get("secret-file");
        if (t != null && f != null) {
            m.problem(f.path(), f.value(), "set either " + t.path() + " or " + f.path() + ", not both");
            return null;
        }
        String secret;
        Entry at;
        if (t != null) {
            at = t;
            secret = m.scalarText(t, "a secret of at least " + MIN_SECRET + " characters");
            if (secret == null) {
                return null;
            }
            secret = secret.strip();
        } else if (f != null) {
            at = f;
            String file = m.scalarText(f, "a file path");
            if (file == null) {
                return null;
            }
            try {
                secret = Files.readString(Path.of(file)).strip();
            } catch (IOException | InvalidPathException | UncheckedIOException ex) {
                m.problem(f.path(), f.value(), "cannot read \"" + file + "\": " + ex.getMessage());
                return null;
            }
        } else {
            return null;
        }
        if (secret.length() < MIN_SECRET) {
            m.problem(at.path(), at.value(), "too short (expected: at least " + MIN_SECRET + " characters)");
            return null;
        }
        return secret.getBytes(StandardCharsets.UTF_8);
    }

    private static AffinityConfig.Hash hash(Mapper m, Section s, Entry parent) {
        Entry on = s.get("on");
        AffinityConfig.Hash key = null;
        if (on == null) {
            m.problem(s.child("on"), parent.value(), "required (expected: " + ON_EXPECTED + ")");
        } else {
            key = key(m, on);
        }
        double factor = m.number(s, "balance-factor", AffinityConfig.Hash.DEFAULT_BALANCE_FACTOR, 1, false, 100);
        return key == null ? null : new AffinityConfig.Hash(key.on(), key.name(), factor);
    }

    /**
     * A request key as {@code on} names it ({@value #ON_EXPECTED}), with the default balance
     * factor; {@code null} after reporting a problem.
     */
    static AffinityConfig.Hash key(Mapper m, Entry on) {
        String text = m.scalarText(on, ON_EXPECTED);
        if (text == null) {
            return null;
        }
        AffinityConfig.Hash.Source source = null;
        String name = null;
        int colon = text.indexOf(':');
        String kind = colon < 0 ? text : text.substring(0, colon);
        switch (kind) {
            case "path" -> source = AffinityConfig.Hash.Source.PATH;
            case "client-address" -> source = AffinityConfig.Hash.Source.CLIENT_ADDRESS;
            case "header" -> source = AffinityConfig.Hash.Source.HEADER;
            case "cookie" -> source = AffinityConfig.Hash.Source.COOKIE;
            default -> m.problem(on.path(), on.value(), "unknown key source \"" + text + "\""
                    + YamlMapper.hint(kind, List.of("header", "cookie", "path", "client-address"))
                    + " (expected: " + ON_EXPECTED + ")");
        }
        boolean named = source == AffinityConfig.Hash.Source.HEADER || source == AffinityConfig.Hash.Source.COOKIE;
        if (named) {
            name = colon < 0 ? "" : text.substring(colon + 1);
            if (!ConfigLoader.TOKEN.matcher(name).matches()) {
                m.problem(on.path(), on.value(), "not a valid " + kind + " name in \"" + text
                        + "\" (expected: " + kind + ":NAME, NAME an RFC 9110 token)");
                return null;
            }
        } else if (source != null && colon >= 0) {
            m.problem(on.path(), on.value(), "\"" + kind + "\" takes no name, got \"" + text
                    + "\" (expected: " + ON_EXPECTED + ")");
            return null;
        }
        return source == null ? null : new AffinityConfig.Hash(source, name, AffinityConfig.Hash.DEFAULT_BALANCE_FACTOR);
    }
}
