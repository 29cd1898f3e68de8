package io.fulcrum.balancer.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The client-facing request meters, resolved once so that recording a request is an array index
 * and an increment: no tag lookup and no allocation per request.
 *
 * <p>{@code fulcrum.requests} is tagged with {@code status.class} ({@code 1xx}..{@code 5xx}, or
 * {@code none} when the client left before any response) and {@code outcome}: {@code completed}
 * when the whole response was written, {@code aborted} when the connection closed first.
 * {@code fulcrum.request.duration} runs from the request head to the last byte of its response
 * and publishes a Prometheus histogram, so p50/p99 come from {@code histogram_quantile}.
 *
 * <p>Thread-safe: Micrometer meters are.
 */
public final class RequestMetrics {
    /** Index of the "no response" class; 1..5 are the status classes. */
    static final int NO_RESPONSE = 0;
    private static final String[] CLASS_TAGS = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

    private final Counter[] completed = new Counter[CLASS_TAGS.length];
    private final Counter[] aborted = new Counter[CLASS_TAGS.length];
    private final Timer duration;

    RequestMetrics(MeterRegistry registry) {
        for (int i = 1; i < CLASS_TAGS.length; i++) {
            completed[i] = counter(registry, "completed", CLASS_TAGS[i]);
        }
        // A completed exchange always had a response; the slot is never used.
        completed[NO_RESPONSE] = aborted[NO_RESPONSE] = counter(registry, "aborted", CLASS_TAGS[NO_RESPONSE]);
        for (int i = 1; i < CLASS_TAGS.length; i++) {
            aborted[i] = counter(registry, "aborted", CLASS_TAGS[i]);
        }
        duration = Timer.builder(BalancerMetrics.REQUEST_DURATION)
                .description("Time from the request head to the last byte of the response")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
    }

    private static Counter counter(MeterRegistry registry, String outcome, String statusClass) {
        return Counter.builder(BalancerMetrics.REQUESTS)
                .tag(BalancerMetrics.TAG_STATUS_CLASS, statusClass)
                .tag(BalancerMetrics.TAG_OUTCOME, outcome)
                .description("Client requests, by response status class and outcome")
                .register(registry);
    }

    /** The class index (1..5) of a status code; codes outside 100..599 count as 5xx. */
    static int statusClass(int code) {
        int c = code / 100;
        return c < 1 ? 5 : Math.min(c, 5);
    }

    /** A response was fully written. */
    void completed(int statusClass, long durationNanos) {
        completed[statusClass].increment();
        if (durationNanos >= 0) {
            duration.record(durationNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** The connection closed before the response ended ({@link #NO_RESPONSE} if none began). */
    void aborted(int statusClass) {
        aborted[statusClass].increment();
    }
}
