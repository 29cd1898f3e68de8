package io.fulcrum.balancer.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.RoutingConfig;
import io.fulcrum.balancer.config.SpilloverConfig;
import io.fulcrum.balancer.metrics.BalancerMetrics;
import io.fulcrum.balancer.metrics.RequestMetrics;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The status page's history: per-second rates and p99 from the counters and the histogram, a bounded ring. */
class BackendHistoryTest {
    private final BackendRegistry registry = new BackendRegistry("local",
            new RoutingConfig(RoutingConfig.Policy.ROUND_ROBIN, null, new SpilloverConfig(0.8, List.of()), Duration.ZERO),
            List.of(new BackendConfig("b1", "127.0.0.1", 9001, "local", 1, 100)));
    private final RequestMetrics metrics =
            new BalancerMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)).bindBackends(registry).requests();
    private final BackendHistory history = new BackendHistory(() -> Map.of("default", registry), metrics::durations);

    @Test
    void eachSecondHasItsRatesAndTheP99OfItsOwnRequests() {
        Backend b1 = registry.current().byId("b1");
        history.sample(1_000);
        for (int i = 0; i < 100; i++) {
            end(b1, i < 10 ? Outcome.SERVER_ERROR : Outcome.SUCCESS, i == 0 ? 900 : 5);
        }
        history.sample(3_000);
        history.sample(4_000);

        List<BackendHistory.Sample> samples = history.snapshot().backends().get("b1");
        assertEquals(2, samples.size(), "the first sample only sets the base: " + samples);
        BackendHistory.Sample busy = samples.get(0);
        assertEquals(3_000, busy.at());
        assertEquals(50.0, busy.rps(), 1e-9, "100 requests over 2 s");
        assertEquals(5.0, busy.eps(), 1e-9);
        // 99 of 100 took 5 ms: the p99 is the bound of 5 ms's bucket, not the one slow request's.
        double bound = bucketAbove(5);
        assertEquals(bound, busy.p99Ms(), 1e-9);
        assertEquals(0.0, samples.get(1).rps());
        assertNull(samples.get(1).p99Ms(), "no request ended in that second");
    }

    @Test
    void keepsFiveMinutesAndForgetsARemovedBackend() {
        for (int s = 0; s <= BackendHistory.SAMPLES + 10; s++) {
            history.sample(s * 1000L);
        }
        List<BackendHistory.Sample> samples = history.snapshot().backends().get("b1");
        assertEquals(BackendHistory.SAMPLES, samples.size());
        assertEquals((BackendHistory.SAMPLES + 10) * 1000L, samples.get(samples.size() - 1).at());

        BackendHistory none = new BackendHistory(Map::of, metrics::durations);
        none.sample(1_000);
        assertEquals(Map.of(), none.snapshot().backends());
    }

    private void end(Backend b, Outcome outcome, long millis) {
        b.state().onRequestEnd(TimeUnit.MILLISECONDS.toNanos(millis), outcome);
        metrics.record(new RequestRecord(0, "id", null, "127.0.0.1", "GET", null, "/", "HTTP/1.1",
                outcome == Outcome.SUCCESS ? 200 : 502, RequestRecord.COMPLETED, 0, 6,
                TimeUnit.MILLISECONDS.toNanos(millis), -1, null, b.id(), List.of(), null, null));
    }

    private double bucketAbove(double millis) {
        for (CountAtBucket c : metrics.durations("b1").histogramCounts()) {
            if (c.bucket(TimeUnit.MILLISECONDS) >= millis) {
                return c.bucket(TimeUnit.MILLISECONDS);
            }
        }
        throw new AssertionError("no bucket above " + millis);
    }
}
