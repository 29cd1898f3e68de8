package io.fulcrum.balancer.metrics;

import static io.fulcrum.testing.TextAssertions.assertContainsAll;
import static io.fulcrum.testing.TextAssertions.assertContainsNone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.RoutingConfig;
import io.fulcrum.balancer.config.SpilloverConfig;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BalancerMetricsTest {
    private static final RoutingConfig ROUTING = new RoutingConfig(RoutingConfig.Policy.ROUND_ROBIN, null,
            new SpilloverConfig(0.8, List.of()), Duration.ZERO);
    private final PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    @AfterEach
    void tearDown() {
        prometheus.close();
    }

    private static BackendConfig backend(String id, int port) {
        return new BackendConfig(id, "127.0.0.1", port, "default", 1, 10);
    }

    private Double gauge(String name, String backend) {
        var g = prometheus.find(name).tag("backend", backend).gauge();
        return g == null ? null : g.value();
    }

    @Test
    void perBackendMetersReadLiveStateAndFollowTheSnapshot() {
        BackendRegistry registry = new BackendRegistry("default", ROUTING, List.of(backend("a", 9001), backend("b", 9002)));
        new BalancerMetrics(prometheus).bindBackends(registry);

        Backend a = registry.current().byId("a");
        assertTrue(a.tryAcquire());
        assertEquals(1.0, gauge(BalancerMetrics.BACKEND_IN_FLIGHT, "a"));
        a.state().onRequestEnd(2_000_000, Outcome.SERVER_ERROR);
        a.state().setReportedLoad(0.75, System.nanoTime() + TimeUnit.HOURS.toNanos(1));
        a.state().setHealthy(false);
        assertEquals(0.0, gauge(BalancerMetrics.BACKEND_IN_FLIGHT, "a"));
        assertEquals(1.0, prometheus.get(BalancerMetrics.BACKEND_REQUESTS).tag("backend", "a").functionCounter().count());
        assertEquals(1.0, prometheus.get(BalancerMetrics.BACKEND_ERRORS).tag("backend", "a").functionCounter().count());
        assertEquals(0.75, gauge(BalancerMetrics.BACKEND_LOAD_REPORTED, "a"));
        assertEquals(0.0, gauge(BalancerMetrics.BACKEND_HEALTHY, "a"));
        assertEquals(1.0, gauge(BalancerMetrics.BACKEND_HEALTHY, "b"));
        // The gauge shows the estimate selection uses now: decayed a little since the sample.
        double latency = gauge(BalancerMetrics.BACKEND_LATENCY_EWMA, "a");
        assertTrue(latency > 0.0019 && latency <= 0.002, "latency " + latency);

        // b leaves, c arrives, a stays with its counters
        registry.update("default", ROUTING, List.of(backend("a", 9001), backend("c", 9003)));
        assertNull(gauge(BalancerMetrics.BACKEND_IN_FLIGHT, "b"), "meters of a removed backend are removed");
        assertEquals(0.0, gauge(BalancerMetrics.BACKEND_IN_FLIGHT, "c"));
        assertEquals(1.0, prometheus.get(BalancerMetrics.BACKEND_REQUESTS).tag("backend", "a").functionCounter().count());

        // b returns as a new backend: fresh meters on a fresh state
        registry.update("default", ROUTING, List.of(backend("a", 9001), backend("b", 9002)));
        assertEquals(0.0, prometheus.get(BalancerMetrics.BACKEND_REQUESTS).tag("backend", "b").functionCounter().count());
        assertTrue(registry.current().byId("b").tryAcquire());
        assertEquals(1.0, gauge(BalancerMetrics.BACKEND_IN_FLIGHT, "b"));
    }

    /** The lines of {@code text} that start with {@code prefix}. */
    private static List<String> lines(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).toList();
    }

    @Test
    void requestHistogramsAreTheSeriesAMicrometerTimerPublishedSummedOverThreads() throws Exception {
        // What the request timers published before they were kept per event loop.
        PrometheusMeterRegistry reference = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Timer timer = Timer.builder(BalancerMetrics.REQUEST_DURATION).tag(BalancerMetrics.TAG_BACKEND, "a")
                .description("Time from the request head to the end of the response, by the backend that answered")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60)).register(reference);
        RequestMetrics requests = new BalancerMetrics(prometheus).requests();
        long[] millis = {0, 1, 3, 7, 7, 40, 250, 1_000, 59_000, 61_000, 120_000};
        // Half of the requests end on another thread: both threads' counts are read.
        Thread other = new Thread(() -> {
            for (int i = 0; i < millis.length; i += 2) {
                record(requests, "a", millis[i]);
            }
        });
        other.start();
        other.join();
        for (int i = 0; i < millis.length; i++) {
            timer.record(millis[i], TimeUnit.MILLISECONDS);
            if (i % 2 == 1) {
                record(requests, "a", millis[i]);
            }
        }
        String expected = reference.scrape();
        String actual = prometheus.scrape();
        String family = "fulcrum_request_duration_seconds";
        String a = "{backend=\"a\"";
        for (String prefix : List.of("# HELP " + family + " ", "# TYPE " + family + " ", family + "_bucket" + a,
                family + "_count" + a, family + "_sum" + a, family + "_max" + a, "# TYPE " + family + "_max ")) {
            assertEquals(lines(expected, prefix), lines(actual, prefix), prefix);
        }
        assertEquals(millis.length, requests.durations("a").count());
        assertEquals(11.0, prometheus.get(BalancerMetrics.REQUESTS).tag("backend", "a").tag("status.class", "2xx")
                .functionCounter().count());
        reference.close();
    }

    private static void record(RequestMetrics requests, String backend, long millis) {
        requests.record(new RequestRecord(0, "id", null, "127.0.0.1", "GET", null, "/", "HTTP/1.1", 200,
                RequestRecord.COMPLETED, 0, 5, TimeUnit.MILLISECONDS.toNanos(millis), -1, null, backend, List.of(),
                null, null));
    }

    @Test
    void prometheusTextUsesTheDocumentedNames() {
        BackendRegistry registry = new BackendRegistry("default", ROUTING, List.of(backend("a", 9001)));
        BalancerMetrics metrics = new BalancerMetrics(prometheus).bindBackends(registry).bindConnections(() -> 3)
                .bindRetryBudget("default", () -> 0, () -> 7).bindBackendConnections(() -> 2)
                .configLoaded("0123456789abcdef");
        metrics.requests().record(new RequestRecord(0, "id", null, "127.0.0.1", "GET", null, "/", "HTTP/1.1", 200,
                RequestRecord.COMPLETED, 0, 5, 1_000_000, 500_000, null, "a",
                List.of(new RequestRecord.Try("a", "reset", 0, -1, 0), new RequestRecord.Try("a", "success", 0, 400_000, 200)),
                null, null));
        metrics.reloadFailed();
        String text = prometheus.scrape();
        assertContainsAll(text,
                "fulcrum_requests_total{backend=\"a\",method=\"GET\",outcome=\"completed\",status_class=\"2xx\"} 1.0",
                "fulcrum_request_duration_seconds_bucket{backend=\"a\",", // a percentile histogram is published
                "fulcrum_backend_first_byte_seconds_count{backend=\"a\"} 1",
                "fulcrum_client_sent_bytes_total{backend=\"a\"} 5.0",
                "fulcrum_connections_active 3.0",
                "fulcrum_backend_connections 2.0",
                "fulcrum_backend_in_flight{backend=\"a\"} 0.0",
                "fulcrum_retries_total{reason=\"reset\"} 1.0",
                "fulcrum_retries_total{reason=\"timeout\"} 0.0", // every reason from the start
                "fulcrum_retry_budget_refused_total{pool=\"default\"} 7.0",
                "fulcrum_config_reload_total{result=\"failure\"} 1.0",
                "fulcrum_config_info{hash=\"0123456789abcdef\"} 1");
        assertContainsNone(text, "fulcrum_config_reload_failures_total"); // one name for reload failures
        metrics.configLoaded("fedcba9876543210");
        String after = prometheus.scrape();
        assertContainsAll(after, "fulcrum_config_info{hash=\"fedcba9876543210\"} 1");
        assertContainsNone(after, "0123456789abcdef"); // the old hash is gone
        metrics.close();
    }

    @Test
    void jvmBindersPublishMemoryThreadsAndUptime() {
        try (BalancerMetrics metrics = new BalancerMetrics(prometheus).bindJvm()) {
            String text = prometheus.scrape();
            assertContainsAll(text, "jvm_memory_used_bytes", "jvm_threads_live_threads", "process_uptime_seconds");
            assertTrue(metrics.registry() == prometheus);
        }
    }

    private BalancerMetrics bound;

    @Test
    void functionMetersKeepReadingAfterTheirSourcesLostEveryOtherReference() {
        AtomicLong refused = new AtomicLong(7);
        // Held like the balancer holds its metrics, for as long as it runs.
        bound = new BalancerMetrics(prometheus)
                .bindRetryBudget("default", () -> 2, refused::get)
                .bindConnections(() -> 3)
                .bindBackendConnections(() -> 4);
        // The method references and lambdas above are referenced by nothing but the meters.
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        refused.set(9);
        assertEquals(9.0, prometheus.get(BalancerMetrics.RETRY_BUDGET_REFUSED).functionCounter().count());
        assertEquals(2.0, prometheus.get(BalancerMetrics.RETRIES_ACTIVE).gauge().value());
        assertEquals(3.0, prometheus.get(BalancerMetrics.CONNECTIONS_ACTIVE).gauge().value());
        assertEquals(4.0, prometheus.get(BalancerMetrics.BACKEND_CONNECTIONS).gauge().value());
        assertTrue(!prometheus.scrape().contains("NaN"), "no meter reads NaN");
    }

    @Test
    void aPoolsQueueHasItsLengthRefusalsAndWaitsUntilThePoolIsRemoved() {
        BackendRegistry registry = new BackendRegistry("default", ROUTING, List.of(backend("a", 9001)));
        BalancerMetrics metrics = new BalancerMetrics(prometheus).bindPool("api", registry);
        AtomicLong length = new AtomicLong(3);
        AtomicLong timedOut = new AtomicLong(2);
        AtomicLong full = new AtomicLong(1);
        java.util.function.LongConsumer waits = metrics.bindQueue("api", () -> (int) length.get(), timedOut::get,
                full::get);
        waits.accept(TimeUnit.MILLISECONDS.toNanos(250));

        assertEquals(3.0, prometheus.get(BalancerMetrics.QUEUE_LENGTH).tag("pool", "api").gauge().value());
        assertEquals(2.0, prometheus.get(BalancerMetrics.QUEUE_REFUSED).tag("pool", "api").tag("reason", "timeout")
                .functionCounter().count());
        assertEquals(1.0, prometheus.get(BalancerMetrics.QUEUE_REFUSED).tag("pool", "api").tag("reason", "full")
                .functionCounter().count());
        assertEquals(1, prometheus.get(BalancerMetrics.QUEUE_WAIT).tag("pool", "api").timer().count());
        String text = prometheus.scrape();
        assertContainsAll(text, "fulcrum_queue_length{pool=\"api\"} 3.0",
                "fulcrum_queue_refused_total{pool=\"api\",reason=\"timeout\"} 2.0",
                "fulcrum_queue_wait_seconds_bucket{pool=\"api\"");

        metrics.unbindPool("api");
        assertNull(prometheus.find(BalancerMetrics.QUEUE_LENGTH).gauge());
        assertNull(prometheus.find(BalancerMetrics.QUEUE_REFUSED).functionCounter());
        assertNull(prometheus.find(BalancerMetrics.QUEUE_WAIT).timer());
    }
}
