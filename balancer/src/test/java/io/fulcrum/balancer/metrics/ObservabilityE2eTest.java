package io.fulcrum.balancer.metrics;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.testing.BalancerYaml.Backend;
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
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The metrics, the JSON access log and the decision trace after known traffic over real sockets:
 * a balancer in us-east with one backend there and one in eu-west, health checks off (the tests
 * set the flags), the access log in a file. Every count is exact.
 */
class ObservabilityE2eTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";

    @RegisterExtension
    final Fixtures fx = new Fixtures();
    private ScriptedBackend us1;
    private ScriptedBackend eu1;
    private Balancer balancer;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(WAIT).build();

    @BeforeEach
    void startBackends() throws InterruptedException {
        us1 = fx.backend("us1");
        eu1 = fx.backend("eu1");
    }

    private Balancer start(String extra) throws Exception {
        BalancerYaml yaml = BalancerYaml.routing("us-east", "policy: least-busy, region-header: X-Client-Region",
                List.of(Backend.of(us1, "us-east"), Backend.of(eu1, "eu-west")))
                .set("access-log", fx.accessLog().toString())
                .merge("decision-header: { request: X-Fulcrum-Debug }\noutlier: { hold-down: 1m, max-hold-down: 1m }\n"
                        + "trusted-edges: { networks: [127.0.0.0/8] }\n" + extra);
        balancer = fx.balancer(yaml);
        return balancer;
    }

    private HttpResponse<String> send(String method, String path, String body, String... headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.port() + path))
                .timeout(WAIT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String scrape() {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + balancer.adminPort() + "/metrics"))
                    .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The value of the sample with exactly these labels (in Prometheus' sorted order), or null. */
    static Double sample(String text, String nameAndLabels) {
        Matcher m = Pattern.compile("^" + Pattern.quote(nameAndLabels) + " (\\S+)$", Pattern.MULTILINE).matcher(text);
        return m.find() ? Double.valueOf(m.group(1)) : null;
    }

    /** The sum of every sample of {@code name} whose labels include all of {@code labels}. */
    static double sum(String text, String name, String... labels) {
        double total = 0;
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE).matcher(text);
        while (m.find()) {
            boolean all = true;
            for (String l : labels) {
                all &= m.group(1).contains(l);
            }
            if (all) {
                total += Double.parseDouble(m.group(2));
            }
        }
        return total;
    }

    private List<JsonNode> logLines(int atLeast) {
        return fx.accessLogLines(lines -> assertTrue(lines.size() >= atLeast, "access log lines: " + lines.size()));
    }

    /**
     * {@code node} has {@code field}, a number of at least 0. A bare {@code asDouble() >= 0} would
     * also pass for a missing field's {@code null} read as 0, or a {@code null} in the line.
     */
    private static void assertNonNegativeNumber(JsonNode node, String field) {
        JsonNode value = node.get(field);
        assertNotNull(value, field + " missing: " + node);
        assertTrue(value.isNumber() && value.asDouble() >= 0, field + " is not a number >= 0: " + node);
    }

    /** {@code node} has {@code field}, written as {@code null} (nothing measured). */
    private static void assertPresentAndNull(JsonNode node, String field) {
        JsonNode value = node.get(field);
        assertNotNull(value, field + " missing: " + node);
        assertTrue(value.isNull(), field + " is not null: " + node);
    }

    private static String requests(String backend, String method, String statusClass) {
        return "fulcrum_requests_total{backend=\"" + backend + "\",method=\"" + method + "\",outcome=\"completed\","
                + "status_class=\"" + statusClass + "\"}";
    }

    @Test
    void countsRequestsBytesAndLatencyByBackendMethodAndStatusClass() throws Exception {
        start("");
        us1.bodyBytes(100);
        for (int i = 0; i < 3; i++) {
            assertEquals(200, send("GET", "/posts/" + i, null).statusCode());
        }
        for (int i = 0; i < 2; i++) {
            assertEquals(200, send("POST", "/posts", "0123456789", "Content-Type", "application/json").statusCode());
        }
        us1.status(404);
        assertEquals(404, send("DELETE", "/posts/9", null).statusCode());

        String text = scrape();
        assertEquals(3.0, sample(text, requests("us1", "GET", "2xx")), text);
        assertEquals(2.0, sample(text, requests("us1", "POST", "2xx")), text);
        assertEquals(1.0, sample(text, requests("us1", "DELETE", "4xx")), text);
        assertEquals(0.0, sum(text, "fulcrum_requests_total", "backend=\"eu1\""), "eu-west is never used");
        assertEquals(6.0, sample(text, "fulcrum_request_duration_seconds_count{backend=\"us1\"}"), text);
        assertTrue(text.contains("fulcrum_request_duration_seconds_bucket{backend=\"us1\",le=\"0.001\"}"),
                "per-backend histogram buckets");
        assertEquals(6.0, sample(text, "fulcrum_backend_first_byte_seconds_count{backend=\"us1\"}"), text);
        assertEquals(20.0, sample(text, "fulcrum_client_received_bytes_total{backend=\"us1\"}"), text);
        // 5 responses of 100 bytes; the 404 too, since the backend sends its body whatever the status.
        assertEquals(600.0, sample(text, "fulcrum_client_sent_bytes_total{backend=\"us1\"}"), text);
        assertEquals(0.0, sum(text, "fulcrum_retries_total"), text);
        assertEquals(0.0, sum(text, "fulcrum_routing_spillover_total"), text);
        assertEquals(0.0, sum(text, "fulcrum_routing_panic_total"), text);
        assertNotNull(sample(text, "fulcrum_connections_active"), text);
        assertTrue(sample(text, "fulcrum_backend_connections") >= 1.0, text);
        assertEquals(1.0, sample(text, "fulcrum_config_info{hash=\"" + balancer.config().hash() + "\"}"), text);
        assertFalse(text.contains("NaN"), "no meter reads NaN:\n" + text);

        List<JsonNode> log = logLines(6);
        JsonNode post = log.stream().filter(l -> l.get("method").asText().equals("POST")).findFirst().orElseThrow();
        assertEquals(200, post.get("status").asInt());
        assertEquals("us1", post.get("backend").asText());
        assertEquals(10, post.get("bytes_in").asInt());
        assertEquals(100, post.get("bytes_out").asInt());
        assertEquals("/posts", post.get("path").asText());
        assertEquals("HTTP/1.1", post.get("protocol").asText());
        assertEquals(32, post.get("trace_id").asText().length(), "a trace was started");
        assertEquals(1, post.get("tries").size());
        assertEquals("success", post.get("tries").get(0).get("outcome").asText());
        assertEquals(200, post.get("tries").get(0).get("status").asInt());
        assertNonNegativeNumber(post, "duration_ms");
        assertNonNegativeNumber(post, "ttfb_ms");
        assertNonNegativeNumber(post.get("tries").get(0), "connect_ms");
        assertNonNegativeNumber(post.get("tries").get(0), "first_byte_ms");
        assertTrue(post.get("decision").asText().contains("pass=local"), post.toString());
    }

    @Test
    void spilloverAndPanicAreCountedByRegionAndExplainedInTheLog() throws Exception {
        start("");
        BackendRegistry registry = balancer.registry();
        registry.current().byId("us1").state().setHealthy(false);
        registry.refresh();
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = send("GET", "/spill", null, "traceparent", "00-" + TRACE_ID + "-00f067aa0ba902b7-01");
            assertEquals(200, r.statusCode());
        }
        registry.current().byId("eu1").state().setHealthy(false);
        registry.refresh();
        HttpResponse<String> panic = send("GET", "/panic", null, "X-Fulcrum-Debug", "1");
        assertEquals(200, panic.statusCode());
        String decision = panic.headers().firstValue("X-Fulcrum-Decision").orElseThrow();
        assertTrue(decision.contains("pass=panic"), decision);
        assertTrue(decision.contains("us1[us-east down"), decision);
        assertTrue(decision.contains("eu1[eu-west down"), decision);
        HttpResponse<String> noHeader = send("GET", "/panic", null);
        assertTrue(noHeader.headers().firstValue("X-Fulcrum-Decision").isEmpty(), "only when asked");
        // Nothing can take a request when every backend is drained: the 503 says so, when asked.
        registry.current().byId("us1").state().setDraining(true);
        registry.current().byId("eu1").state().setDraining(true);
        registry.refresh();
        HttpResponse<String> none = send("GET", "/none", null, "X-Fulcrum-Debug", "1");
        assertEquals(503, none.statusCode());
        assertEquals("region=us-east(default) pass=none", none.headers().firstValue("X-Fulcrum-Decision").orElse(null));
        registry.current().byId("us1").state().setDraining(false);
        registry.current().byId("eu1").state().setDraining(false);
        registry.refresh();

        String text = scrape();
        assertEquals(4.0, sample(text, "fulcrum_routing_spillover_total{from=\"us-east\",pool=\"default\",to=\"eu-west\"}"), text);
        assertEquals(2.0, sum(text, "fulcrum_routing_panic_total", "from=\"us-east\""), text);
        // Panic mode picks among both backends: eu1 has the four spilled requests and its panic share.
        assertEquals(4.0 + sample(text, "fulcrum_routing_panic_total{from=\"us-east\",pool=\"default\",to=\"eu-west\"}"),
                sample(text, requests("eu1", "GET", "2xx")), text);
        assertEquals(6.0, sum(text, "fulcrum_requests_total", "method=\"GET\"", "status_class=\"2xx\""), text);

        List<JsonNode> log = logLines(6);
        JsonNode spill = log.get(0);
        assertEquals(TRACE_ID, spill.get("trace_id").asText(), "the client's trace id");
        assertEquals("eu1", spill.get("backend").asText());
        assertTrue(spill.get("decision").asText().contains("pass=spillover to=eu-west backend=eu1"),
                spill.toString());
        // The four spilled requests came first; panic mode may have sent eu1 more, without a traceparent.
        assertTrue(eu1.received().stream().limit(4).allMatch(h -> h.headers().get("traceparent")
                .equals("00-" + TRACE_ID + "-00f067aa0ba902b7-01")), "a valid traceparent is forwarded unchanged");
        assertTrue(eu1.received().stream().skip(4).allMatch(h -> h.headers().get("traceparent")
                .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-00")), "the others carry a trace started by the balancer");
        assertTrue(log.get(4).get("decision").asText().contains("pass=panic"), log.get(4).toString());
    }

    @Test
    void retriesHoldDownsAndBudgetRefusalsAreCountedAndEachTryIsLogged() throws Exception {
        // us1 refuses connections before any request: the first try fails to connect, holds us1 down
        // and is retried (for free) in eu-west.
        us1.close();
        start("retry: { attempts: 2, budget-percent: 0 }\n");
        HttpResponse<String> r = send("GET", "/retried", null, "X-Client-Region", "us-east");
        assertEquals(200, r.statusCode());
        assertEquals("eu1", r.headers().firstValue("X-Fulcrum-Backend").orElseThrow());

        // A 503 would be retried, but a 0% budget refuses (a connect failure needs no budget).
        eu1.status(503);
        assertEquals(503, send("GET", "/refused", null).statusCode());

        String text = scrape();
        assertEquals(1.0, sample(text, "fulcrum_retries_total{reason=\"connect_failure\"}"), text);
        assertEquals(0.0, sample(text, "fulcrum_retries_total{reason=\"server_error\"}"), text);
        assertEquals(1.0, sample(text, "fulcrum_retry_budget_refused_total{pool=\"default\"}"), text);
        assertEquals(1.0, sample(text, "fulcrum_backend_hold_downs_total{backend=\"us1\"}"), text);
        assertEquals(1.0, sample(text, requests("eu1", "GET", "5xx")), text);

        List<JsonNode> log = logLines(2);
        JsonNode retried = log.get(0);
        assertEquals("eu1", retried.get("backend").asText());
        JsonNode tries = retried.get("tries");
        assertEquals(2, tries.size(), retried.toString());
        assertEquals("us1", tries.get(0).get("backend").asText());
        assertEquals("connect_failure", tries.get(0).get("outcome").asText());
        assertTrue(tries.get(0).get("status").isNull(), retried.toString());
        assertPresentAndNull(tries.get(0), "connect_ms");
        assertPresentAndNull(tries.get(0), "first_byte_ms");
        assertEquals("eu1", tries.get(1).get("backend").asText());
        assertEquals("success", tries.get(1).get("outcome").asText());
        assertNonNegativeNumber(tries.get(1), "connect_ms");
        assertNonNegativeNumber(tries.get(1), "first_byte_ms");
        assertTrue(retried.get("decision").asText().contains("avoided=1"), retried.toString());
        JsonNode refusedRetry = log.get(1);
        assertEquals(503, refusedRetry.get("status").asInt());
        assertTrue(refusedRetry.get("decision").asText().endsWith("pass=spillover to=eu-west backend=eu1 held-down=1"),
                refusedRetry.toString());

        JsonNode backendState = JSON.readTree(http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + balancer.adminPort() + "/backends")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        JsonNode us = backendState.get(0);
        assertEquals("held-down", us.get("state").asText());
        assertTrue(us.get("stateReason").asText().startsWith("connect failed"), us.toString());
        assertEquals(1, us.get("holdDowns").asInt());
    }

    @Test
    void theBalancersOwnAnswersAndClientsThatLeaveAreCountedAndLogged() throws Exception {
        start("");
        try (RawHttpClient raw = RawHttpClient.connect(balancer.port(), 10_000)) {
            RawHttpClient.Response r = raw.send("GET /two-hosts HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
                    + "User-Agent: raw/1\r\n\r\n").readResponse();
            assertEquals(400, r.status());
        }
        // A client that leaves while its request is held at the backend: 499, aborted.
        us1.hold(true);
        try (RawHttpClient raw = RawHttpClient.connect(balancer.port(), 10_000)) {
            raw.send("GET /held HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(WAIT).until(() -> us1.holding() == 1);
        }
        await().atMost(WAIT).untilAsserted(() -> assertEquals(1.0,
                sample(scrape(), "fulcrum_requests_total{backend=\"none\",method=\"GET\",outcome=\"aborted\","
                        + "status_class=\"none\"}")));
        us1.hold(false);
        us1.release();

        String text = scrape();
        assertEquals(1.0, sample(text, requests("none", "GET", "4xx")), text);
        List<JsonNode> log = logLines(2);
        JsonNode refused = log.get(0);
        assertEquals(400, refused.get("status").asInt());
        assertTrue(refused.get("backend").isNull(), "the balancer answered");
        assertEquals("more than one Host header", refused.get("error").asText());
        assertEquals("raw/1", refused.get("user_agent").asText());
        assertEquals(0, refused.get("tries").size());
        JsonNode left = log.get(1);
        assertEquals(499, left.get("status").asInt());
        assertEquals("aborted", left.get("outcome").asText());
        assertEquals("cancelled", left.get("tries").get(0).get("outcome").asText());
    }

    @Test
    void ejectionsAreCountedPerBackend() throws Exception {
        start("outlier: { consecutive-failures: 2, base-ejection: 1m, max-ejected-percent: 50 }\n");
        us1.status(500);
        assertEquals(500, send("GET", "/a", null).statusCode());
        assertEquals(500, send("GET", "/b", null).statusCode());

        await().atMost(WAIT).untilAsserted(() ->
                assertEquals(1.0, sample(scrape(), "fulcrum_backend_ejections_total{backend=\"us1\"}")));
        String text = scrape();
        assertEquals(0.0, sample(text, "fulcrum_backend_ejections_total{backend=\"eu1\"}"), text);
        assertEquals(1.0, sample(text, "fulcrum_backend_ejected{backend=\"us1\"}"), text);
        assertEquals(2.0, sample(text, requests("us1", "GET", "5xx")), text);
        assertNull(sample(text, "fulcrum_config_reload_failures_total"), "one name for reload failures");
    }
}
