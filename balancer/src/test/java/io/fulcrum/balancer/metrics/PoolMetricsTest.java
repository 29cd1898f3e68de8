package io.fulcrum.balancer.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every pool-scoped metric with two pools, each with a backend in the balancer's region and one in
 * another, as scraped from the admin port: the second pool's backends go down one after the other,
 * so its requests spill over, then route in panic mode, while the first pool's do neither. Each
 * pool has counters of its own for the same pair of regions, and the second pool's must show.
 */
class PoolMetricsTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private Balancer balancer;

    private String scrape() throws IOException {
        return fx.adminGet(balancer, "/metrics");
    }

    private double sample(String name) throws IOException {
        return ObservabilityE2eTest.sample(scrape(), name);
    }

    private String servedBy(String path) throws IOException {
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            RawHttpClient.Response r = c.get(path);
            assertEquals(200, r.status(), path);
            return r.header(Fixtures.BACKEND_HEADER);
        }
    }

    @Test
    void theSecondPoolsSpilloverPanicAndPoolSeriesAreItsOwn() throws Exception {
        ScriptedBackend postsUs = fx.backend("posts-us");
        ScriptedBackend postsEu = fx.backend("posts-eu");
        ScriptedBackend filesUs = fx.backend("files-us");
        ScriptedBackend filesEu = fx.backend("files-eu");
        balancer = fx.readyBalancer(BalancerYaml.activeChecks().set("region", "us-east")
                .set("health.interval", "100ms").set("health.timeout", "1s").set("health.rise", "1")
                .set("health.fall", "1").set("routing.slow-start", "0s")
                .backend(BalancerYaml.Backend.of(postsUs, "us-east"))
                .backend(BalancerYaml.Backend.of(postsEu, "eu-west"))
                .append("""
                        pools:
                          files:
                            backends:
                              - { id: files-us, url: "http://127.0.0.1:%d", region: us-east }
                              - { id: files-eu, url: "http://127.0.0.1:%d", region: eu-west }
                        routes:
                          - { name: files, match: { path: { prefix: /files } }, pool: files }
                          - { name: posts, match: { path: { prefix: / } }, pool: default }
                        """.formatted(filesUs.port(), filesEu.port())));
        await().atMost(Fixtures.WAIT).until(() -> sample("fulcrum_backend_routable{backend=\"files-us\"}") == 1.0);
        assertEquals("posts-us", servedBy("/posts"));
        assertEquals("files-us", servedBy("/files/a"));

        // files-us down: the files pool spills to eu-west.
        filesUs.healthStatus(503);
        await().atMost(Fixtures.WAIT).until(() -> sample("fulcrum_backend_routable{backend=\"files-us\"}") == 0.0);
        assertEquals("files-eu", servedBy("/files/b"));
        assertEquals("files-eu", servedBy("/files/c"));
        // files-eu down too: nothing in the pool is routable, so panic mode picks among both.
        filesEu.healthStatus(503);
        await().atMost(Fixtures.WAIT).until(() -> sample("fulcrum_backend_routable{backend=\"files-eu\"}") == 0.0);
        servedBy("/files/d");
        assertEquals("posts-us", servedBy("/posts"));

        String text = scrape();
        assertEquals(2.0, ObservabilityE2eTest.sample(text,
                "fulcrum_routing_spillover_total{from=\"us-east\",pool=\"files\",to=\"eu-west\"}"), text);
        assertEquals(1.0, ObservabilityE2eTest.sum(text, "fulcrum_routing_panic_total", "pool=\"files\""), text);
        // The first pool has the same pair of regions, counted apart: nothing left its region.
        assertEquals(0.0, ObservabilityE2eTest.sample(text,
                "fulcrum_routing_spillover_total{from=\"us-east\",pool=\"default\",to=\"eu-west\"}"), text);
        assertEquals(0.0, ObservabilityE2eTest.sum(text, "fulcrum_routing_panic_total", "pool=\"default\""), text);
        assertEquals(2.0, ObservabilityE2eTest.sample(text, "fulcrum_pool_backends{pool=\"files\"}"), text);
        assertEquals(2.0, ObservabilityE2eTest.sample(text, "fulcrum_pool_backends{pool=\"default\"}"), text);
        assertEquals(1.0, ObservabilityE2eTest.sample(text, "fulcrum_backend_pool{backend=\"files-eu\",pool=\"files\"}"),
                text);
        assertEquals(4.0, ObservabilityE2eTest.sample(text,
                "fulcrum_route_requests_total{pool=\"files\",route=\"files\",status_class=\"2xx\"}"), text);
        assertEquals(2.0, ObservabilityE2eTest.sample(text,
                "fulcrum_route_requests_total{pool=\"default\",route=\"posts\",status_class=\"2xx\"}"), text);
        // The retry budget's and the admission queue's meters: each pool has its own, nothing
        // retried, queued or refused here.
        for (String pool : new String[] {"default", "files"}) {
            assertEquals(0.0, ObservabilityE2eTest.sample(text, "fulcrum_retries_active{pool=\"" + pool + "\"}"), text);
            assertEquals(0.0, ObservabilityE2eTest.sample(text,
                    "fulcrum_retry_budget_refused_total{pool=\"" + pool + "\"}"), text);
            assertEquals(0.0, ObservabilityE2eTest.sample(text, "fulcrum_queue_length{pool=\"" + pool + "\"}"), text);
            assertEquals(0.0, ObservabilityE2eTest.sample(text,
                    "fulcrum_queue_refused_total{pool=\"" + pool + "\",reason=\"full\"}"), text);
        }
    }
}
