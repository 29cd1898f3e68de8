package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper.Section;
import io.fulcrum.config.YamlMapper.Values;

/**
 * Reads a {@code timeouts} section, the top level's or a pool's, whose unset keys keep the values it
 * inherits. Problems are reported through the {@link Mapper}, with the same paths, line numbers and
 * wording as every other section. Stateless.
 */
final class TimeoutsSection {
    private TimeoutsSection() {
    }

    /** The top-level section over the defaults of {@link TimeoutsConfig#DEFAULT}. */
    static TimeoutsConfig read(Mapper m, Section top) {
        return read(m, m.subsection(top, "timeouts", BalancerSchema.TIMEOUTS), TimeoutsConfig.DEFAULT);
    }

    /** A timeouts section; every key it does not set keeps its value in {@code defaults}. */
    static TimeoutsConfig read(Mapper m, Section s, TimeoutsConfig defaults) {
        Values v = m.read(s, BalancerSchema.TIMEOUTS);
        return new TimeoutsConfig(
                v.duration("connect", defaults.connect()),
                v.duration("response", defaults.response()),
                v.duration("client-idle", defaults.clientIdle()),
                v.duration("backend-idle", defaults.backendIdle()),
                v.duration("drain", defaults.drain()),
                v.duration("tunnel-idle", defaults.tunnelIdle()),
                v.duration("request-head", defaults.requestHead()),
                v.duration("queue", defaults.queue()));
    }
}
