package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.FieldTable;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.time.Duration;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * A section that the top level and each pool may have, a pool's unset keys keeping the top level's
 * values ({@code health}, {@code outlier}, {@code retry}, {@code timeouts}): its key, its table, the
 * values of a file without it, and how its values are read over those it inherits. One constant per
 * section; problems are reported through the {@link Mapper}, with the same paths, line numbers and
 * wording as every other section. Immutable and stateless.
 *
 * @param key the YAML key, at the top level and in a pool
 * @param table the section's keys
 * @param defaults the values of a file without the section
 * @param reader reads the section's values over those it inherits
 * @param <T> the section's config record
 */
record InheritedSection<T>(String key, FieldTable table, T defaults, Reader<T> reader) {
    /** Active health checks. */
    static final InheritedSection<HealthConfig> HEALTH = new InheritedSection<>("health", BalancerSchema.HEALTH,
            HealthConfig.DEFAULT, InheritedSection::health);
    /** Passive outlier ejection. */
    static final InheritedSection<OutlierConfig> OUTLIER = new InheritedSection<>("outlier", BalancerSchema.OUTLIER,
            OutlierConfig.DEFAULT, InheritedSection::outlier);
    /** Retries. */
    static final InheritedSection<RetryConfig> RETRY = new InheritedSection<>("retry", BalancerSchema.RETRY,
            RetryConfig.DEFAULT, InheritedSection::retry);
    /** Timeouts; a pool takes only {@link BalancerSchema#POOL_TIMEOUTS} (see {@code PoolsSection}). */
    static final InheritedSection<TimeoutsConfig> TIMEOUTS = new InheritedSection<>("timeouts",
            BalancerSchema.TIMEOUTS, TimeoutsConfig.DEFAULT, InheritedSection::timeouts);

    /** Reads a section's values; every key it does not set keeps its value in {@code inherited}. */
    @FunctionalInterface
    interface Reader<T> {
        T read(Mapper m, Section s, SectionValues v, T inherited);
    }

    /** The section {@link #key} of {@code parent} (the file or a pool) over {@code inherited}. */
    T read(Mapper m, Section parent, T inherited) {
        return over(m, m.subsection(parent, key, table), inherited);
    }

    /** The section {@code s}, already taken from its parent, over {@code inherited}. */
    T over(Mapper m, Section s, T inherited) {
        return reader.read(m, s, m.read(s, table), inherited);
    }

    private static HealthConfig health(Mapper m, Section s, SectionValues v, HealthConfig inherited) {
        String path = v.string("path", inherited.path());
        Entry p = s.get("path");
        if (p != null && !path.equals(inherited.path()) && !Mapper.isRequestTarget(path)) {
            m.problem(p.path(), p.value(), "not a request path: \"" + path
                    + "\" (expected: starting with / and without spaces or control characters)");
            path = inherited.path();
        }
        Duration interval = v.duration("interval", inherited.interval());
        Duration timeout = v.duration("timeout", inherited.timeout());
        int rise = v.integer("rise", inherited.rise());
        int fall = v.integer("fall", inherited.fall());
        boolean enabled = v.bool("enabled", inherited.enabled());
        String type = v.oneOf("type", inherited.grpc() ? "grpc" : "http", "health check type");
        String service = inherited.grpc() ? inherited.grpcService() : "";
        Entry g = s.get("grpc-service");
        if (g != null && m.checkTag(g.path(), g.value())) {
            if (g.value() instanceof ScalarNode scalar) {
                service = scalar.getValue();
            } else {
                m.problem(g.path(), g.value(), "expected a service name, got " + Mapper.describe(g.value()));
            }
        }
        return new HealthConfig(path, interval, timeout, rise, fall, enabled, type.equals("grpc") ? service : null);
    }

    private static OutlierConfig outlier(Mapper m, Section s, SectionValues v, OutlierConfig inherited) {
        int failures = v.integer("consecutive-failures", inherited.consecutiveFailures());
        Duration base = v.duration("base-ejection", inherited.baseEjection());
        Duration max = v.duration("max-ejection", inherited.maxEjection());
        int percent = v.integer("max-ejected-percent", inherited.maxEjectedPercent());
        if (!m.notShorter(s, "max-ejection", max, "base-ejection", base)) {
            max = base;
        }
        Duration holdDown = v.duration("hold-down", inherited.holdDown());
        Duration maxHoldDown = v.duration("max-hold-down", inherited.maxHoldDown());
        if (!m.notShorter(s, "max-hold-down", maxHoldDown, "hold-down", holdDown)) {
            maxHoldDown = holdDown;
        }
        double rate = m.number(s, "failure-rate", inherited.failureRate(), 0, false, 1);
        return new OutlierConfig(failures, base, max, percent, holdDown, maxHoldDown, rate);
    }

    private static RetryConfig retry(Mapper m, Section s, SectionValues v, RetryConfig inherited) {
        int attempts = v.integer("attempts", inherited.attempts());
        int budget = v.integer("budget-percent", inherited.budgetPercent());
        int replay = v.integer("replay-body-bytes", inherited.replayBodyBytes());
        Duration perTry = inherited.perTryTimeout();
        Entry e = s.get("per-try-timeout");
        if (e != null && m.checkTag(e.path(), e.value())) {
            // An explicit null turns an inherited per-try timeout off.
            perTry = Mapper.isNull(e.value()) ? null : v.duration("per-try-timeout", inherited.perTryTimeout());
        }
        return new RetryConfig(attempts, budget, replay, perTry);
    }

    private static TimeoutsConfig timeouts(Mapper m, Section s, SectionValues v, TimeoutsConfig inherited) {
        return new TimeoutsConfig(
                v.duration("connect", inherited.connect()),
                v.duration("response", inherited.response()),
                v.duration("client-idle", inherited.clientIdle()),
                v.duration("backend-idle", inherited.backendIdle()),
                v.duration("drain", inherited.drain()),
                v.duration("tunnel-idle", inherited.tunnelIdle()),
                v.duration("request-head", inherited.requestHead()),
                v.duration("queue", inherited.queue()));
    }
}
