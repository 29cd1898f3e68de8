package io.fulcrum.balancer.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests by route and pool, in the metrics and in the access log, after known traffic through
 * two pools, a redirect, a fixed response and the 404 of no route. Every count is exact.
 */
class RouteMetricsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ROUTE_REQUESTS = "fulcrum_route_requests_total";

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @TempDir
    Path dir;

    @Test
    void requestsAreCountedAndLoggedByRouteAndPool() throws Exception {
        ScriptedBackend api = fx.backend("api1");
        ScriptedBackend files = fx.backend("static1");
        Path accessLog = dir.resolve("access.log");
        Balancer balancer = fx.balancer(BalancerYaml.forProxy().set("access-log", accessLog.toString()).append("""
                pools:
                  api:
                    backends: [{ id: api1, url: "http://127.0.0.1:%d" }]
                  static:
                    backends: [{ id: static1, url: "http://127.0.0.1:%d" }]
                routes:
                  - { name: api, match: { path: { prefix: /api } }, pool: api }
                  - { match: { path: { prefix: /static } }, pool: static }
                  - { match: { path: { exact: /old } }, redirect: { status: 301, to: "/new" } }
                  - { match: { path: { exact: /maintenance } }, respond: { status: 503, body: "back soon" } }
                """.formatted(api.port(), files.port())));

        String before = scrape(balancer);
        assertEquals(0.0, ObservabilityE2eTest.sample(before,
                ROUTE_REQUESTS + "{pool=\"static\",route=\"routes[1]\",status_class=\"5xx\"}"),
                "a route's series exist before its first request:\n" + before);

        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), 10_000)) {
            for (String path : List.of("/api/a", "/api/b", "/api/c", "/static/x.css", "/static/y.js", "/old",
                    "/maintenance", "/nowhere", "/nowhere/else")) {
                int status = client.get(path).status();
                assertTrue(status < 500 || path.equals("/maintenance"), path + " " + status);
            }
        }

        String text = scrape(balancer);
        assertEquals(3.0, ObservabilityE2eTest.sample(text,
                ROUTE_REQUESTS + "{pool=\"api\",route=\"api\",status_class=\"2xx\"}"), text);
        assertEquals(2.0, ObservabilityE2eTest.sample(text,
                ROUTE_REQUESTS + "{pool=\"static\",route=\"routes[1]\",status_class=\"2xx\"}"), text);
        assertEquals(1.0, ObservabilityE2eTest.sample(text,
                ROUTE_REQUESTS + "{pool=\"none\",route=\"routes[2]\",status_class=\"3xx\"}"), text);
        assertEquals(1.0, ObservabilityE2eTest.sample(text,
                ROUTE_REQUESTS + "{pool=\"none\",route=\"routes[3]\",status_class=\"5xx\"}"), text);
        assertEquals(2.0, ObservabilityE2eTest.sample(text,
                ROUTE_REQUESTS + "{pool=\"none\",route=\"no-route\",status_class=\"4xx\"}"), text);
        assertEquals(9.0, ObservabilityE2eTest.sum(text, ROUTE_REQUESTS), text);

        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(accessLog)
                && Files.readAllLines(accessLog).size() == 9);
        Map<String, JsonNode> byPath = new HashMap<>();
        for (String line : Files.readAllLines(accessLog)) {
            JsonNode n = JSON.readTree(line);
            byPath.put(n.get("path").asText(), n);
        }
        assertEquals("api", byPath.get("/api/b").get("route").asText(), "a named route goes by its name");
        assertEquals("api", byPath.get("/api/b").get("pool").asText());
        assertEquals("api1", byPath.get("/api/b").get("backend").asText());
        assertEquals("static", byPath.get("/static/y.js").get("pool").asText());
        assertEquals("routes[2]", byPath.get("/old").get("route").asText());
        assertTrue(byPath.get("/old").get("pool").isNull(), "a redirect goes to no pool");
        assertEquals("no-route", byPath.get("/nowhere").get("route").asText());
        assertTrue(byPath.get("/nowhere").get("pool").isNull());
    }

    @Test
    void aFileWithoutRoutesCountsEverythingUnderTheDefaultPool() throws Exception {
        ScriptedBackend b = fx.backend("b1");
        Balancer balancer = fx.balancer(BalancerYaml.forProxy().backends(b));
        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), 10_000)) {
            assertEquals(200, client.get("/x").status());
            assertEquals(200, client.get("/y").status());
        }
        String text = scrape(balancer);
        assertEquals(2.0, ObservabilityE2eTest.sample(text,
                ROUTE_REQUESTS + "{pool=\"default\",route=\"default-pool\",status_class=\"2xx\"}"), text);
    }

    private static String scrape(Balancer balancer) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + balancer.adminPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
