package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.net.URI;
import java.net.URISyntaxException;
import org.yaml.snakeyaml.nodes.MappingNode;

/**
 * Reads the {@code redis} section, and checks that every rate limit with {@code store: redis} has
 * one to use. Problems are reported through the {@link Mapper}, with the same paths, line numbers
 * and wording as every other section. Stateless.
 */
final class RedisSection {
    private static final String URL_EXPECTED = "redis://[[user:]password@]host[:port][/database] or rediss://...";

    private RedisSection() {
    }

    /**
     * The optional {@code redis: { url: redis://127.0.0.1:6379, timeout: 250ms, fail-open: true,
     * key-prefix: "fulcrum:rl:" }}; {@code null} when absent or after reporting a problem. Call it
     * after every rate limit has been read.
     */
    static RedisConfig read(Mapper m, Section top) {
        Section s = m.optional(top, "redis", BalancerSchema.REDIS);
        RedisConfig redis = s == null || !(s.node instanceof MappingNode) ? null : section(m, s);
        if (s == null) {
            for (Entry store : m.redisStores) {
                m.problem(store.path(), store.value(), "redis needs the top-level redis section, and there is none"
                        + " (expected: redis: { url: redis://HOST:PORT }, or store: local)");
            }
        }
        return redis;
    }

    private static RedisConfig section(Mapper m, Section s) {
        int before = m.problems.size();
        String url = null;
        Entry u = s.get("url");
        if (u == null) {
            m.problem(s.child("url"), s.node, "required (expected: " + URL_EXPECTED + ")");
        } else {
            String text = m.scalarText(u, URL_EXPECTED);
            if (text != null) {
                url = checkedUrl(m, u, text);
            }
        }
        SectionValues v = m.read(s, BalancerSchema.REDIS);
        if (url == null || m.problems.size() != before) {
            return null;
        }
        return new RedisConfig(url, v.duration("timeout"), v.bool("fail-open"), v.string("key-prefix"));
    }

    private static String checkedUrl(Mapper m, Entry u, String text) {
        try {
            URI uri = new URI(text);
            if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme()) || uri.getHost() == null) {
                m.problem(u.path(), u.value(), "\"" + text + "\" is not a Redis URL (expected: " + URL_EXPECTED + ")");
                return null;
            }
            return text;
        } catch (URISyntaxException e) {
            m.problem(u.path(), u.value(), "\"" + text + "\" is not a Redis URL: " + e.getReason()
                    + " (expected: " + URL_EXPECTED + ")");
            return null;
        }
    }
}
