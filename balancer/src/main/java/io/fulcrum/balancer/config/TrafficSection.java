package io.fulcrum.balancer.config;

import io.fulcrum.balancer.config.ConfigLoader.Mapper;
import io.fulcrum.config.Durations;
import io.fulcrum.config.SectionValues;
import io.fulcrum.config.YamlMapper.Entry;
import io.fulcrum.config.YamlMapper.Section;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads how a route shares out its traffic: its {@code split} between pools (with
 * {@code split-by}, the key that keeps a client on one of them), its {@code mirror} and its
 * {@code hedge}. Problems are reported through the
 * {@link Mapper} with the same paths, line numbers and wording as every other section. Stateless.
 */
final class TrafficSection {
    private TrafficSection() {
    }

    /**
     * The {@code split} of route section {@code s}, found at {@code at}, each pool checked by
     * {@code poolName} (which reports a pool that does not exist); {@code null} after reporting a
     * problem.
     */
    static RouteAction.Split split(Mapper m, Section s, Entry at, Function<Entry, String> poolName) {
        if (!m.checkTag(at.path(), at.value())) {
            return null;
        }
        if (!(at.value() instanceof SequenceNode seq) || seq.getValue().isEmpty()) {
            m.problem(at.path(), at.value(), "expected a list of pools and weights, e.g."
                    + " [{ pool: v1, weight: 95 }, { pool: v2, weight: 5 }], got " + Mapper.describe(at.value()));
            return null;
        }
        int before = m.problems.size();
        List<RouteAction.Share> shares = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        m.eachMapping(at.path(), seq, RouteSchema.SPLIT_SHARE, "a mapping with pool and weight", item -> {
            SectionValues v = m.read(item, RouteSchema.SPLIT_SHARE);
            int weight = v.integer("weight");
            Entry p = item.get("pool");
            String pool = p == null ? null : poolName.apply(p);
            if (pool != null && !seen.add(pool)) {
                m.problem(p.path(), p.value(), "pool \"" + pool + "\" is already in this split (expected: each pool once)");
            } else if (pool != null && weight >= 0) {
                shares.add(new RouteAction.Share(pool, weight));
            }
        });
        if (m.problems.size() != before) {
            return null;
        }
        if (shares.stream().mapToLong(RouteAction.Share::weight).sum() == 0) {
            m.problem(at.path(), at.value(), "every weight is 0 (expected: at least one share above 0)");
            return null;
        }
        AffinityConfig.Hash by = null;
        Entry b = s.get("split-by");
        if (b != null && !Mapper.isNull(b.value())) {
            by = AffinitySection.key(m, b);
            if (by == null) {
                return null;
            }
        }
        return new RouteAction.Split(shares, by);
    }

    /** Reports a {@code split-by} without a {@code split}. */
    static void checkSplitBy(Mapper m, Section s) {
        Entry b = s.get("split-by");
        if (b != null && s.get("split") == null) {
            m.problem(b.path(), b.key(), "needs a `split` in the same route (the pools it keeps a client on)");
        }
    }

    /**
     * The {@code mirror} and {@code hedge} of route section {@code s}, whose action is
     * {@code action} (null after a problem); {@link RouteTrafficConfig#NONE} when it has neither.
     */
    static RouteTrafficConfig traffic(Mapper m, Section s, RouteAction action, Function<Entry, String> poolName) {
        MirrorConfig mirror = mirror(m, s, action, poolName);
        HedgeConfig hedge = hedge(m, s, action);
        return mirror == null && hedge == null ? RouteTrafficConfig.NONE : new RouteTrafficConfig(mirror, hedge);
    }

    /** The route's {@code mirror}, or {@code null} when it has none or after reporting a problem. */
    private static MirrorConfig mirror(Mapper m, Section s, RouteAction action, Function<Entry, String> poolName) {
        Section ms = m.optional(s, "mirror", RouteSchema.MIRROR);
        if (ms == null) {
            return null;
        }
        Entry at = s.get("mirror");
        if (action != null && RouteAction.pools(action).isEmpty()) {
            m.problem(at.path(), at.key(), "only a route to a pool or a split mirrors its requests");
            return null;
        }
        SectionValues v = m.read(ms, RouteSchema.MIRROR);
        Entry p = ms.get("pool");
        String pool = p == null ? null : poolName.apply(p);
        double percent = MirrorConfig.DEFAULT_PERCENT;
        Entry pc = ms.get("percent");
        if (pc != null) {
            Double n = m.number(pc);
            if (n != null && n >= 0 && n <= 100) {
                percent = n;
            } else if (n != null) {
                m.problem(pc.path(), pc.value(), "out of range: " + Mapper.scalar(pc.value()) + " (expected: 0-100)");
            }
        }
        long maxBody = v.longInteger("max-body-bytes");
        if (pool != null && action != null && RouteAction.pools(action).contains(pool)) {
            m.problem(p.path(), p.value(), "pool \"" + pool + "\" already serves this route"
                    + " (expected: a shadow pool of its own)");
            return null;
        }
        return pool == null ? null : new MirrorConfig(pool, percent, maxBody);
    }

    /** The route's {@code hedge}, or {@code null} when it has none or after reporting a problem. */
    private static HedgeConfig hedge(Mapper m, Section s, RouteAction action) {
        Section hs = m.optional(s, "hedge", TrafficSchema.HEDGE);
        if (hs == null) {
            return null;
        }
        Entry at = s.get("hedge");
        if (action != null && RouteAction.pools(action).isEmpty()) {
            m.problem(at.path(), at.key(), "only a route to a pool or a split hedges its requests");
            return null;
        }
        int before = m.problems.size();
        SectionValues v = m.read(hs, TrafficSchema.HEDGE);
        Duration delay = null;
        Entry d = hs.get("delay");
        if (d != null) {
            String text = m.scalarText(d, "a duration like 50ms, or p95");
            if (text != null && !text.equals(HedgeConfig.P95)) {
                delay = Durations.parse(text).filter(x -> !x.isZero()).orElse(null);
                if (delay == null) {
                    m.problem(d.path(), d.value(), "not a delay: \"" + text
                            + "\" (expected: a duration above 0 like 50ms, or p95)");
                }
            }
        }
        List<String> methods = HedgeConfig.DEFAULT_METHODS;
        Entry me = hs.get("methods");
        if (me != null && me.value() instanceof SequenceNode seq && seq.getValue().isEmpty()) {
            m.problem(me.path(), me.value(), "no methods (expected: a list like [GET, HEAD])");
        } else if (me != null) {
            methods = RouteMatchSection.methods(m, me);
        }
        Duration minDelay = v.duration("min-delay");
        if (m.problems.size() != before) {
            return null;
        }
        return new HedgeConfig(delay, minDelay, methods);
    }
}
