package io.fulcrum.balancer.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ScriptedBackend;
import java.io.IOException;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code limits.max-response-bytes} and a route's own {@code limits} and {@code timeouts}, over
 * real sockets with the JDK's HTTP client: a response announced too large is a 502, one that grows
 * too large after its head is cut with the connection, both counted; a route may lift the limit or
 * wait less long than its pool.
 */
class ResponseLimitsTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private ScriptedBackend backend;
    private Balancer b;

    @BeforeEach
    void start() throws Exception {
        backend = fx.backend("b1");
        b = fx.balancer(BalancerYaml.forProxy().backends(backend).set("access-log", fx.accessLog().toString())
                .merge("""
                        limits: { max-response-bytes: 1000 }
                        routes:
                          - { name: big, match: { path: { prefix: /big } }, pool: default, limits: { max-response-bytes: 0 } }
                          - { name: quick, match: { path: { prefix: /quick } }, pool: default, timeouts: { response: 200ms } }
                          - { name: app, match: { path: { prefix: / } }, pool: default }
                        """));
    }

    private HttpResponse<String> get(String target) throws Exception {
        return Browser.get(b, target);
    }

    @Test
    void aResponseAnnouncedLargerThanTheLimitIsA502() throws Exception {
        HttpResponse<String> r = get("/app?bytes=5000");
        assertEquals(502, r.statusCode());
        assertTrue(r.body().contains("\"error\":\"backend response too large\""), r.body());
        assertEquals(1, b.proxy().responsesTooLarge());
        assertTrue(b.meterRegistry().scrape().contains("fulcrum_responses_too_large_total 1.0"));
        // Within the limit, the same route answers.
        HttpResponse<String> small = get("/app?bytes=1000");
        assertEquals(200, small.statusCode());
        assertEquals(1000, small.body().length());
    }

    @Test
    void aChunkedResponseThatGrowsPastTheLimitIsCutAndCounted() throws Exception {
        assertThrows(IOException.class, () -> get("/app?bytes=200000&chunked=true"),
                "the head went out as 200; the body ends early with the connection");
        var line = fx.accessLogLines(lines -> assertEquals(1, lines.size())).get(0);
        assertEquals("backend response too large (cut)", line.get("error").asText(), line.toString());
        assertEquals(1, b.proxy().responsesTooLarge());
    }

    @Test
    void aRouteLiftsTheLimitOrWaitsLessThanItsPool() throws Exception {
        HttpResponse<String> big = get("/big?bytes=5000");
        assertEquals(200, big.statusCode());
        assertEquals(5000, big.body().length());
        assertEquals(504, get("/quick?delayMs=3000").statusCode(), "the route's own response timeout");
        assertEquals(200, get("/app?delayMs=400").statusCode(), "the pool's 10 s for the other routes");
        assertEquals(0, b.proxy().responsesTooLarge());
    }
}
