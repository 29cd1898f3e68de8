package io.fulcrum.balancer.metrics;

import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import java.time.Duration;
import java.util.Arrays;

/**
 * A latency histogram kept in {@link LoopCounters} slots from {@code base}: a count per bucket, the
 * count past the last bound ({@code +Inf}), the sum in nanoseconds, and the largest value of each
 * of two alternating windows. Its buckets are Micrometer's percentile-histogram bounds between
 * 1 ms and 60 s, the ones the request timers published, so the Prometheus series stay the same.
 *
 * <p>Recording is a binary search and three plain writes to the recording thread's array; the
 * buckets are summed over the threads when read.
 */
final class LoopHistogram {
    /** The bucket bounds, in nanoseconds, ascending. */
    static final long[] BOUNDS = bounds(Duration.ofMillis(1), Duration.ofSeconds(60));
    /** The bounds in seconds, then {@code +Inf}: the {@code le} labels. */
    private static final double[] LE = le(BOUNDS);
    private static final int SUM = BOUNDS.length + 1;
    private static final int MAX = SUM + 1;
    /** Slots a histogram takes. */
    static final int SLOTS = MAX + 2;

    private final LoopCounters counters;
    private final int base;

    LoopHistogram(LoopCounters counters, int base) {
        this.counters = counters;
        this.base = base;
    }

    private static long[] bounds(Duration min, Duration max) {
        DistributionStatisticConfig config = DistributionStatisticConfig.builder()
                .percentilesHistogram(true)
                .minimumExpectedValue((double) min.toNanos())
                .maximumExpectedValue((double) max.toNanos())
                .build()
                .merge(DistributionStatisticConfig.DEFAULT);
        return config.getHistogramBuckets(true).stream().mapToLong(Double::longValue).toArray();
    }

    private static double[] le(long[] bounds) {
        double[] le = Arrays.copyOf(Arrays.stream(bounds).mapToDouble(n -> n / 1e9).toArray(), bounds.length + 1);
        le[bounds.length] = Double.POSITIVE_INFINITY;
        return le;
    }

    /** Records {@code nanos} (ignored when negative) into the calling thread's {@code shard}. */
    void record(long[] shard, long nanos, int window) {
        if (nanos < 0) {
            return;
        }
        int bucket = Arrays.binarySearch(BOUNDS, nanos);
        LoopCounters.add(shard, base + (bucket >= 0 ? bucket : -bucket - 1), 1);
        LoopCounters.add(shard, base + SUM, nanos);
        LoopCounters.max(shard, base + MAX + (window & 1), nanos);
    }

    /** Starts window {@code window}: its largest value so far is forgotten. */
    void startWindow(int window) {
        counters.clear(base + MAX + (window & 1));
    }

    /** The count in each bucket, {@code +Inf} last, not cumulative. */
    private long[] buckets() {
        long[] counts = new long[LE.length];
        counters.sum(base, counts);
        return counts;
    }

    /** The largest value of the last two windows, in seconds. */
    double maxSeconds() {
        return Math.max(counters.max(base + MAX), counters.max(base + MAX + 1)) / 1e9;
    }

    /** The Prometheus data point: buckets and sum, labelled {@code labels}. */
    HistogramDataPointSnapshot dataPoint(Labels labels) {
        return HistogramDataPointSnapshot.builder()
                .classicHistogramBuckets(ClassicHistogramBuckets.of(LE, buckets()))
                .sum(counters.sum(base + SUM) / 1e9)
                .labels(labels)
                .build();
    }

    /** Micrometer's view of the histogram: count, total and cumulative buckets (in nanoseconds). */
    HistogramSnapshot snapshot() {
        long[] counts = buckets();
        CountAtBucket[] cumulative = new CountAtBucket[BOUNDS.length];
        long running = 0;
        for (int i = 0; i < BOUNDS.length; i++) {
            running += counts[i];
            cumulative[i] = new CountAtBucket((double) BOUNDS[i], running);
        }
        long count = running + counts[BOUNDS.length];
        return new HistogramSnapshot(count, counters.sum(base + SUM), maxSeconds() * 1e9, new ValueAtPercentile[0],
                cumulative, null);
    }
}
