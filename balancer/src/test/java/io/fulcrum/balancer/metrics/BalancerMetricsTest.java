package io.fulcrum.balancer.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.RoutingConfig;
import io.fulcrum.balancer.config.SpilloverConfig;
import io.fulcrum.balancer.routing.Backend;
import io.fulcrum.balancer.routing.BackendRegistry;
import io.fulcrum.balancer.routing.Outcome;
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

    @Test
    void prometheusTextUsesTheDocumentedNames() {
        BackendRegistry registry = new BackendRegistry("default", ROUTING, List.of(backend("a", 9001)));
        BalancerMetrics metrics = new BalancerMetrics(prometheus).bindBackends(registry).bindConnections(() -> 3)
                .bindActiveRetries(() -> 0).bindRetries(() -> 7).bindPanicSelections(() -> 2);
        metrics.requests().completed(2, 1_000_000);
        metrics.reloadFailed();
        String text = prometheus.scrape();
        assertTrue(text.contains("fulcrum_requests_total{outcome=\"completed\",status_class=\"2xx\"} 1.0"), text);
        assertTrue(text.contains("fulcrum_request_duration_seconds_bucket{"), "percentile histogram published");
        assertTrue(text.contains("fulcrum_connections_active 3.0"), text);
        assertTrue(text.contains("fulcrum_backend_in_flight{backend=\"a\"} 0.0"), text);
        assertTrue(text.contains("fulcrum_retries_total 7.0"), text);
        assertTrue(text.contains("fulcrum_routing_panic_total 2.0"), text);
        assertTrue(text.contains("fulcrum_config_reload_total{result=\"failure\"} 1.0"), text);
        assertTrue(text.contains("fulcrum_config_reload_failures_total 1.0"), text);
        metrics.close();
    }

    @Test
    void jvmBindersPublishMemoryThreadsAndUptime() {
        try (BalancerMetrics metrics = new BalancerMetrics(prometheus).bindJvm()) {
            String text = prometheus.scrape();
            assertTrue(text.contains("jvm_memory_used_bytes"), "memory");
            assertTrue(text.contains("jvm_threads_live_threads"), "threads");
            assertTrue(text.contains("process_uptime_seconds"), "uptime");
            assertTrue(metrics.registry() == prometheus);
        }
    }

    private BalancerMetrics bound;

    @Test
    void functionMetersKeepReadingAfterTheirSourcesLostEveryOtherReference() {
        AtomicLong retries = new AtomicLong(7);
        // Held like the balancer holds its metrics, for as long as it runs.
        bound = new BalancerMetrics(prometheus)
                .bindRetries(retries::get)
                .bindActiveRetries(() -> 2)
                .bindConnections(() -> 3)
                .bindPanicSelections(() -> 4);
        // The method references and lambdas above are referenced by nothing but the meters.
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        retries.set(9);
        assertEquals(9.0, prometheus.get(BalancerMetrics.RETRIES).functionCounter().count());
        assertEquals(2.0, prometheus.get(BalancerMetrics.RETRIES_ACTIVE).gauge().value());
        assertEquals(3.0, prometheus.get(BalancerMetrics.CONNECTIONS_ACTIVE).gauge().value());
        assertEquals(4.0, prometheus.get(BalancerMetrics.ROUTING_PANIC).functionCounter().count());
    }
}
