package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.Durations;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import io.fulcrum.config.YamlMapper.Values;
import java.time.Duration;

/**
 * Reads an {@code outlier} section (passive outlier ejection), the top level's or a pool's, whose
 * unset keys keep the values it inherits. Problems are reported through the {@link Mapper}, with
 * the same paths, line numbers and wording as every other section. Stateless.
 */
final class OutlierSection {
    private OutlierSection() {
    }

    /** The top-level section over the defaults of {@link OutlierConfig#DEFAULT}. */
    static OutlierConfig read(Mapper m, Section top) {
        return read(m, m.subsection(top, "outlier", BalancerSchema.OUTLIER), OutlierConfig.DEFAULT);
    }

    /** An outlier section; every key it does not set keeps its value in {@code defaults}. */
    static OutlierConfig read(Mapper m, Section s, OutlierConfig defaults) {
        Values v = m.read(s, BalancerSchema.OUTLIER);
        int failures = v.integer("consecutive-failures", defaults.consecutiveFailures());
        Duration base = v.duration("base-ejection", defaults.baseEjection());
        Duration max = v.duration("max-ejection", defaults.maxEjection());
        int percent = v.integer("max-ejected-percent", defaults.maxEjectedPercent());
        if (max.compareTo(base) < 0) {
            Entry at = s.get("max-ejection") != null ? s.get("max-ejection") : s.get("base-ejection");
            m.problem(at.path(), at.value(), "max-ejection " + Durations.format(max)
                    + " is shorter than base-ejection " + Durations.format(base)
                    + " (expected: max-ejection >= base-ejection)");
            max = base;
        }
        Duration holdDown = v.duration("hold-down", defaults.holdDown());
        Duration maxHoldDown = v.duration("max-hold-down", defaults.maxHoldDown());
        if (maxHoldDown.compareTo(holdDown) < 0) {
            Entry at = s.get("max-hold-down") != null ? s.get("max-hold-down") : s.get("hold-down");
            m.problem(at.path(), at.value(), "max-hold-down " + Durations.format(maxHoldDown)
                    + " is shorter than hold-down " + Durations.format(holdDown)
                    + " (expected: max-hold-down >= hold-down)");
            maxHoldDown = holdDown;
        }
        return new OutlierConfig(failures, base, max, percent, holdDown, maxHoldDown);
    }
}
