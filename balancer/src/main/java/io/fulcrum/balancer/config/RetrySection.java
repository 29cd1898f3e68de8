package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import io.fulcrum.config.YamlMapper.Values;
import java.time.Duration;

/**
 * Reads a {@code retry} section, the top level's or a pool's, whose unset keys keep the values it
 * inherits. Problems are reported through the {@link Mapper}, with the same paths, line numbers and
 * wording as every other section. Stateless.
 */
final class RetrySection {
    private RetrySection() {
    }

    /** The top-level section over the defaults of {@link RetryConfig#DEFAULT}. */
    static RetryConfig read(Mapper m, Section top) {
        return read(m, m.subsection(top, "retry", BalancerSchema.RETRY), RetryConfig.DEFAULT);
    }

    /** A retry section; every key it does not set keeps its value in {@code defaults}. */
    static RetryConfig read(Mapper m, Section s, RetryConfig defaults) {
        Values v = m.read(s, BalancerSchema.RETRY);
        int attempts = v.integer("attempts", defaults.attempts());
        int budget = v.integer("budget-percent", defaults.budgetPercent());
        int replay = v.integer("replay-body-bytes", defaults.replayBodyBytes());
        Duration perTry = defaults.perTryTimeout();
        Entry e = s.get("per-try-timeout");
        if (e != null && m.checkTag(e.path(), e.value())) {
            // An explicit null turns an inherited per-try timeout off.
            perTry = Mapper.isNull(e.value()) ? null : v.duration("per-try-timeout", defaults.perTryTimeout());
        }
        return new RetryConfig(attempts, budget, replay, perTry);
    }
}
