package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads a {@code rate-limit} section, the top level's or a route's. Problems are reported through
 * the {@link Mapper}, with the same paths, line numbers and wording as every other section.
 * Stateless.
 */
final class RateLimitSection {
    private static final Pattern RATE = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)/(s|m|h)");
    private static final String RATE_EXPECTED = "a rate such as 100/s, 600/m or 1000/h";
    private static final String KEY_EXPECTED = "client-address or header:NAME";
    static final int MAX_KEYS_LIMIT = 10_000_000;
    static final long MAX_BURST = 1_000_000_000L;

    private RateLimitSection() {
    }

    /**
     * An optional {@code rate-limit: { rate: 100/s, burst: 200, key: client-address, max-keys: 100000, store: local }}
     * under {@code parent}; {@code null} when absent or after reporting a problem.
     */
    static RateLimitConfig read(Mapper m, Section parent, String key) {
        return read(m, parent, key, false);
    }

    /**
     * As {@link #read(Mapper, Section, String)}; with {@code offAllowed} (a route's), the
     * word {@code off} is {@link RateLimitConfig#OFF}.
     */
    static RateLimitConfig read(Mapper m, Section parent, String key, boolean offAllowed) {
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
        SectionValues v = m.read(s, BalancerSchema.RATE_LIMIT);
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
        RateLimitConfig.Store store = RateLimitConfig.Store.valueOf(v.oneOf("store").toUpperCase(Locale.ROOT));
        if (store == RateLimitConfig.Store.REDIS) {
            // Checked once the whole file is read: the top-level redis section must be there.
            m.redisStores.add(s.get("store"));
        }
        if (m.problems.size() != before || rateText == null) {
            return null;
        }
        return new RateLimitConfig(rateText, perSecond, burst, header, maxKeys, store);
    }
}
