package io.fulcrum.balancer.admin;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The last minutes of each backend, one sample a second, so that the status page's charts start
 * full when it is opened ({@code GET /backends/history}) instead of empty: requests and errors per
 * second from the backend's counters, and the p99 of the requests that ended in that second from
 * the {@code fulcrum.request.duration} histogram (the bucket it falls in, as the page computes it
 * from {@code /metrics}). A backend gone from every pool is forgotten at the next sample.
 *
 * <p>Thread-safe: {@link #sample} (the admin event loop's timer) and {@link #snapshot} (a request)
 * take the instance's lock briefly; nothing under it does I/O.
 */
final class BackendHistory {
    /** Samples kept per backend: five minutes. */
    static final int SAMPLES = 300;
    /** Time between samples. */
    static final long INTERVAL_MILLIS = 1000;

    /**
     * One second of one backend.
     *
     * @param at when the second ended, epoch milliseconds
     * @param p99Ms {@code null} when no request ended in that second
     */
    record Sample(long at, double rps, double eps, Double p99Ms) {
    }

    /** What the page reads: the interval and each backend's samples, oldest first. */
    record View(long intervalMs, Map<String, List<Sample>> backends) {
    }

    /** One backend's ring and the counters of its previous sample. */
    private static final class Series {
        final ArrayDeque<Sample> samples = new ArrayDeque<>(SAMPLES);
        long at;
        long requests;
        long errors;
        long count;
        CountAtBucket[] buckets;
    }

    private final Supplier<Map<String, BackendRegistry>> pools;
    private final Function<String, HistogramSnapshot> durations;
    private final Map<String, Series> byId = new LinkedHashMap<>();

    /**
     * @param durations a backend's {@code fulcrum.request.duration} histogram by its id, or
     *     {@code null} for a backend it has none of
     */
    BackendHistory(Supplier<Map<String, BackendRegistry>> pools, Function<String, HistogramSnapshot> durations) {
        this.pools = requireNonNull(pools, "pools");
        this.durations = requireNonNull(durations, "durations");
    }

    /** Takes one sample of every backend at {@code nowMillis}; the first one of a backend only sets its base. */
    synchronized void sample(long nowMillis) {
        Set<String> seen = new HashSet<>();
        for (BackendRegistry registry : pools.get().values()) {
            for (Backend b : registry.current().backends()) {
                if (!seen.add(b.id())) {
                    continue;
                }
                Series s = byId.computeIfAbsent(b.id(), id -> new Series());
                long requests = b.state().requests();
                long errors = b.state().errors();
                HistogramSnapshot histogram = durations.apply(b.id());
                long count = histogram == null ? 0 : histogram.count();
                CountAtBucket[] buckets = histogram == null ? null : histogram.histogramCounts();
                if (s.at != 0 && nowMillis > s.at) {
                    double seconds = (nowMillis - s.at) / 1000.0;
                    if (s.samples.size() == SAMPLES) {
                        s.samples.removeFirst();
                    }
                    s.samples.addLast(new Sample(nowMillis, Math.max(0, requests - s.requests) / seconds,
                            Math.max(0, errors - s.errors) / seconds, p99Ms(buckets, s.buckets, count - s.count)));
                }
                s.at = nowMillis;
                s.requests = requests;
                s.errors = errors;
                s.count = count;
                s.buckets = buckets;
            }
        }
        byId.keySet().retainAll(seen);
    }

    /** Every backend's samples, oldest first. */
    synchronized View snapshot() {
        Map<String, List<Sample>> out = new LinkedHashMap<>();
        byId.forEach((id, s) -> out.put(id, new ArrayList<>(s.samples)));
        return new View(INTERVAL_MILLIS, out);
    }

    /**
     * The upper bound in milliseconds of the bucket holding the 99th percentile of the requests
     * counted between two snapshots of a cumulative histogram, or {@code null} for none. Past the
     * last bucket, the last bound.
     */
    static Double p99Ms(CountAtBucket[] now, CountAtBucket[] before, long total) {
        if (now == null || before == null || now.length != before.length || now.length == 0 || total <= 0) {
            return null;
        }
        for (int i = 0; i < now.length; i++) {
            if (now[i].count() - before[i].count() >= 0.99 * total) {
                return now[i].bucket(TimeUnit.MILLISECONDS);
            }
        }
        return now[now.length - 1].bucket(TimeUnit.MILLISECONDS);
    }
}
