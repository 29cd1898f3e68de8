package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import io.fulcrum.config.YamlMapper.Values;
import java.time.Duration;

/**
 * Reads a {@code health} section (active health checks), the top level's or a pool's, whose unset
 * keys keep the values it inherits. Problems are reported through the {@link Mapper}, with the same
 * paths, line numbers and wording as every other section. Stateless.
 */
final class HealthSection {
    private HealthSection() {
    }

    /** The top-level section over the defaults of {@link HealthConfig#DEFAULT}. */
    static HealthConfig read(Mapper m, Section top) {
        return read(m, m.subsection(top, "health", BalancerSchema.HEALTH), HealthConfig.DEFAULT);
    }

    /** A health section; every key it does not set keeps its value in {@code defaults}. */
    static HealthConfig read(Mapper m, Section s, HealthConfig defaults) {
        Values v = m.read(s, BalancerSchema.HEALTH);
        String path = v.string("path", defaults.path());
        Entry p = s.get("path");
        if (p != null && !path.equals(defaults.path()) && !Mapper.isRequestTarget(path)) {
            m.problem(p.path(), p.value(), "not a request path: \"" + path
                    + "\" (expected: starting with / and without spaces or control characters)");
            path = defaults.path();
        }
        Duration interval = v.duration("interval", defaults.interval());
        Duration timeout = v.duration("timeout", defaults.timeout());
        int rise = v.integer("rise", defaults.rise());
        int fall = v.integer("fall", defaults.fall());
        boolean enabled = v.bool("enabled", defaults.enabled());
        return new HealthConfig(path, interval, timeout, rise, fall, enabled);
    }
}
