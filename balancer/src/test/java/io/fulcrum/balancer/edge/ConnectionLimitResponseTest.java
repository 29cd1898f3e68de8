package io.fulcrum.balancer.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.tls.TestCertificates;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The 503 a connection past {@code limits.max-connections} gets before anything of it is read is
 * one of the balancer's own errors like the others: JSON with a request id, which the
 * {@code X-Request-Id} header repeats, {@code Cache-Control: no-store}, {@code Retry-After} and
 * {@code Connection: close}. On the TLS port the connection is closed unanswered: a cleartext
 * answer would be garbage to a TLS client.
 */
class ConnectionLimitResponseTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void aConnectionOverTheLimitGetsTheBalancersUsual503() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer balancer = fx.balancer(BalancerYaml.forProxy().backend(backend.port())
                .set("limits.max-connections", 1));
        try (RawHttpClient first = RawHttpClient.connect(balancer.port(), (int) Fixtures.WAIT.toMillis())) {
            assertEquals(200, first.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());

            try (RawHttpClient extra = RawHttpClient.connect(balancer.port(), (int) Fixtures.WAIT.toMillis())) {
                RawHttpClient.Response r = extra.readResponse();

                assertEquals(503, r.status(), r.statusLine());
                assertEquals("application/json", r.header("content-type"));
                assertEquals("no-store", r.header("cache-control"));
                assertEquals("1", r.header("retry-after"));
                assertEquals("close", r.header("connection"));
                JsonNode json = JSON.readTree(r.body());
                assertEquals("too many connections", json.get("error").asText(), r.bodyText());
                String id = r.header("x-request-id");
                assertNotNull(id, "the response names a request id");
                assertEquals(id, json.get("requestId").asText());
                assertTrue(extra.isClosedByPeer());
            }
        }
    }

    @Test
    void aConnectionOverTheLimitOnTheTlsPortIsClosedWithoutACleartextAnswer() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer balancer = fx.balancer(BalancerYaml.forProxy().backend(backend.port())
                .set("limits.max-connections", 1).merge(TestCertificates.tlsSection(fx.dir())));
        try (RawHttpClient first = RawHttpClient.connect(balancer.port(), (int) Fixtures.WAIT.toMillis())) {
            assertEquals(200, first.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());

            try (RawHttpClient extra = RawHttpClient.connect(balancer.tlsPort(), (int) Fixtures.WAIT.toMillis())) {
                assertEquals(-1, extra.input().read(), "closed before any byte, not answered in cleartext");
            }
        }
    }
}
