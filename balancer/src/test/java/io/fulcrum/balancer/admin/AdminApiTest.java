package io.fulcrum.balancer.admin;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static io.fulcrum.balancer.admin.AdminTestSupport.backend;
import static io.fulcrum.balancer.admin.AdminTestSupport.json;
import static io.fulcrum.balancer.admin.AdminTestSupport.sample;
import static io.fulcrum.balancer.admin.AdminTestSupport.sum;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.config.ConfigLoader;
import io.fulcrum.testing.RunningBalancer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The admin routes over real sockets, with the balancer in front of two WireMock backends. */
class AdminApiTest {
    @RegisterExtension
    static final WireMockExtension A = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();
    @RegisterExtension
    static final WireMockExtension B = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private final AdminTestSupport http = new AdminTestSupport();
    private RunningBalancer lb;

    @BeforeEach
    void start() throws Exception {
        for (WireMockExtension backend : List.of(A, B)) {
            backend.stubFor(get("/ok").willReturn(aResponse().withStatus(200).withBody("ok")));
            backend.stubFor(get(AdminTestSupport.HEALTH_PATH).willReturn(aResponse().withStatus(200)));
            backend.stubFor(get("/missing").willReturn(aResponse().withStatus(404).withBody("no")));
            backend.stubFor(get("/boom").willReturn(aResponse().withStatus(500).withBody("boom")));
        }
        String yaml = AdminTestSupport.yaml("", "a=" + A.getPort(), "b=" + B.getPort());
        lb = RunningBalancer.startReady(new Balancer(ConfigLoader.parse(yaml, "test.yaml"), 1),
                AdminTestSupport.TIMEOUT);
    }

    @AfterEach
    void stop() throws Exception {
        lb.balancer().close();
    }

    private int backendHits(WireMockExtension backend) {
        // Proxied requests only: the health probes go to AdminTestSupport.HEALTH_PATH.
        return backend.findAll(getRequestedFor(anyUrl())).size()
                - backend.findAll(getRequestedFor(urlEqualTo(AdminTestSupport.HEALTH_PATH))).size();
    }

    @Test
    void healthAnswersUp() {
        HttpResponse<String> r = http.get(lb.admin(), "/health");
        assertEquals(200, r.statusCode());
        assertEquals("UP", json(r).get("status").asText());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
    }

    @Test
    void readyNeedsARoutableBackendAndTheReadinessHook() {
        assertEquals(200, http.get(lb.admin(), "/ready").statusCode());

        assertEquals(200, http.post(lb.admin(), "/backends/a/drain").statusCode());
        assertEquals(200, http.get(lb.admin(), "/ready").statusCode(), "b is still routable");
        assertEquals(200, http.post(lb.admin(), "/backends/b/drain").statusCode());
        HttpResponse<String> notReady = http.get(lb.admin(), "/ready");
        assertEquals(503, notReady.statusCode());
        assertEquals("no routable backend", json(notReady).get("reason").asText());

        assertEquals(200, http.post(lb.admin(), "/backends/b/enable").statusCode());
        assertEquals(200, http.get(lb.admin(), "/ready").statusCode());

        lb.balancer().admin().setReadiness(() -> false);
        assertEquals(503, http.get(lb.admin(), "/ready").statusCode(), "first health round not done");
        lb.balancer().admin().setReadiness(() -> true);
        assertEquals(200, http.get(lb.admin(), "/ready").statusCode());
    }

    @Test
    void metricsCountRequestsByStatusClassAfterTraffic() {
        for (int i = 0; i < 3; i++) {
            assertEquals(200, http.get(lb.traffic(), "/ok").statusCode());
        }
        for (int i = 0; i < 2; i++) {
            assertEquals(404, http.get(lb.traffic(), "/missing").statusCode());
        }
        assertEquals(500, http.get(lb.traffic(), "/boom").statusCode());

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            HttpResponse<String> r = http.get(lb.admin(), "/metrics");
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
            String text = r.body();
            assertEquals(3.0, sum(text, "fulcrum_requests_total", "status_class=\"2xx\"", "method=\"GET\""));
            assertEquals(2.0, sum(text, "fulcrum_requests_total", "status_class=\"4xx\"", "method=\"GET\""));
            assertEquals(1.0, sum(text, "fulcrum_requests_total", "status_class=\"5xx\"", "method=\"GET\""));
            assertEquals(6.0, sum(text, "fulcrum_request_duration_seconds_count"));
            double a = sample(text, "fulcrum_backend_requests_total{backend=\"a\"}");
            double b = sample(text, "fulcrum_backend_requests_total{backend=\"b\"}");
            assertEquals(6.0, a + b);
            assertEquals(1.0, sample(text, "fulcrum_backend_errors_total{backend=\"a\"}")
                    + sample(text, "fulcrum_backend_errors_total{backend=\"b\"}"));
            assertEquals(1.0, sample(text, "fulcrum_backend_healthy{backend=\"a\"}"));
            assertTrue(text.contains("jvm_memory_used_bytes"), "JVM meters are bound");
            assertTrue(text.contains("fulcrum_connections_active"), "connection gauge is bound");
        });
    }

    @Test
    void backendsShowInFlightWhileARequestIsOpenAndCountItAfterwards() throws Exception {
        A.stubFor(get("/slow").willReturn(aResponse().withStatus(200).withFixedDelay(1500)));
        B.stubFor(get("/slow").willReturn(aResponse().withStatus(200).withFixedDelay(1500)));
        CompletableFuture<HttpResponse<String>> slow = http.getAsync(lb.traffic(), "/slow");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode backends = json(http.get(lb.admin(), "/backends"));
            assertEquals(1, backend(backends, "a").get("inFlight").asInt() + backend(backends, "b").get("inFlight").asInt());
        });
        assertEquals(200, slow.get(10, TimeUnit.SECONDS).statusCode());

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            JsonNode backends = json(http.get(lb.admin(), "/backends"));
            JsonNode a = backend(backends, "a");
            JsonNode b = backend(backends, "b");
            assertEquals(0, a.get("inFlight").asInt() + b.get("inFlight").asInt());
            assertEquals(1, a.get("requests").asLong() + b.get("requests").asLong());
            JsonNode served = a.get("requests").asLong() == 1 ? a : b;
            assertTrue(served.get("latencyEwmaMs").asDouble() >= 1000, "latency of a 1.5 s response: " + served);
        });
    }

    @Test
    void backendsListEveryDocumentedField() {
        HttpResponse<String> r = http.get(lb.admin(), "/backends");
        assertEquals(200, r.statusCode());
        JsonNode backends = json(r);
        assertEquals(List.of("a", "b"), AdminTestSupport.ids(backends));
        JsonNode a = backend(backends, "a");
        for (String field : List.of("id", "url", "region", "weight", "maxInFlight", "healthy", "ejected", "draining",
                "inFlight", "reportedLoad", "latencyEwmaMs", "requests", "errors")) {
            assertTrue(a.has(field), field + " in " + a);
        }
        assertEquals("http://127.0.0.1:" + A.getPort(), a.get("url").asText());
        assertEquals("default", a.get("region").asText());
        assertEquals(1, a.get("weight").asInt());
        assertTrue(a.get("healthy").asBoolean());
        assertFalse(a.get("draining").asBoolean());
    }

    @Test
    void aDrainedBackendGetsNoNewRequestsUntilEnabled() {
        HttpResponse<String> drained = http.post(lb.admin(), "/backends/a/drain");
        assertEquals(200, drained.statusCode());
        assertTrue(json(drained).get("draining").asBoolean());
        assertFalse(json(drained).get("routable").asBoolean());

        for (int i = 0; i < 10; i++) {
            assertEquals(200, http.get(lb.traffic(), "/ok").statusCode());
        }
        A.verify(0, getRequestedFor(urlEqualTo("/ok")));
        B.verify(10, getRequestedFor(urlEqualTo("/ok")));

        HttpResponse<String> enabled = http.post(lb.admin(), "/backends/a/enable");
        assertEquals(200, enabled.statusCode());
        assertFalse(json(enabled).get("draining").asBoolean());
        for (int i = 0; i < 10; i++) {
            assertEquals(200, http.get(lb.traffic(), "/ok").statusCode());
        }
        assertTrue(backendHits(A) > 0, "a takes traffic again");
        assertEquals(20, backendHits(A) + backendHits(B));
    }

    @Test
    void drainingAnUnknownBackendIs404() {
        HttpResponse<String> r = http.post(lb.admin(), "/backends/nope/drain");
        assertEquals(404, r.statusCode());
        assertTrue(json(r).get("error").asText().contains("nope"));
    }

    @Test
    void unknownPathsAre404Json() {
        HttpResponse<String> r = http.get(lb.admin(), "/nothing/here");
        assertEquals(404, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
        assertTrue(json(r).has("error"));
        assertEquals(404, http.post(lb.admin(), "/backends/a/explode").statusCode());
    }

    @Test
    void wrongMethodsAre405WithAllow() {
        HttpResponse<String> postHealth = http.post(lb.admin(), "/health");
        assertEquals(405, postHealth.statusCode());
        assertEquals("GET", postHealth.headers().firstValue("allow").orElse(""));
        HttpResponse<String> getReload = http.get(lb.admin(), "/reload");
        assertEquals(405, getReload.statusCode());
        assertEquals("POST", getReload.headers().firstValue("allow").orElse(""));
        HttpResponse<String> getDrain = http.get(lb.admin(), "/backends/a/drain");
        assertEquals(405, getDrain.statusCode());
        assertEquals("POST", getDrain.headers().firstValue("allow").orElse(""));
        assertFalse(lb.balancer().registry().current().byId("a").state().draining(), "a GET changed nothing");
    }

    @Test
    void reloadWithoutAConfigFileIs400() {
        HttpResponse<String> r = http.post(lb.admin(), "/reload");
        assertEquals(400, r.statusCode());
        assertTrue(json(r).get("error").asText().contains("no config file"));
        assertTrue(json(r).get("problems").isArray());
    }

    @Test
    void statusPageIsSelfContainedHtmlPollingTheBackendTable() {
        HttpResponse<String> r = http.get(lb.admin(), "/");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/html"));
        String page = r.body();
        assertTrue(page.contains("get(\"/backends\")"), "polls /backends");
        assertTrue(page.contains("get(\"/metrics\", true)"), "and /metrics, for the p99 charts");
        assertTrue(page.contains("const POLL_MS = 1000") && page.contains("setInterval(refresh, POLL_MS)"),
                "every second");
        assertFalse(page.matches("(?s).*(src|href)=\"https?:.*"), "no external resources");
    }

    @Test
    void adminRoutesAreNotServedOnTheTrafficPort() {
        HttpResponse<String> r = http.get(lb.traffic(), "/health");
        assertNotEquals("{\"status\":\"UP\"}", r.body());
        assertEquals(1, A.findAll(getRequestedFor(urlEqualTo("/health"))).size()
                + B.findAll(getRequestedFor(urlEqualTo("/health"))).size(), "proxied to a backend");
    }
}
