package io.fulcrum.balancer.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ProxyHeader;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The request headers a client could lie with, over real sockets: from an untrusted peer each
 * forged one is dropped, replaced or ignored; from a trusted edge (a trusted source network, or a
 * PROXY header whose source is trusted) the same headers are kept, appended to or believed. The
 * backend records every head it receives, so each test reads what the balancer forwarded.
 */
class ForgedHeadersTest {
    private static final String TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String TRACEPARENT = "00-" + TRACE_ID + "-00f067aa0ba902b7-01";
    /** Every forwarding header a client could send, each a lie. */
    private static final String FORGED = "GET /who HTTP/1.1\r\nHost: app.example\r\n"
            + "Forwarded: for=1.2.3.4;proto=https\r\n"
            + "X-Forwarded-For: 1.2.3.4\r\n"
            + "X-Forwarded-Proto: https\r\n"
            + "X-Forwarded-Host: bank.example\r\n"
            + "X-Forwarded-Port: 443\r\n"
            + "X-Real-IP: 1.2.3.4\r\n"
            + "X-Request-Id: forged-id\r\n"
            + "traceparent: " + TRACEPARENT + "\r\n"
            + "tracestate: vendor=forged\r\n"
            + "X-Client-Region: eu-west\r\n\r\n";

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    /** The backend of each region, started by {@link #balancer}. */
    private ScriptedBackend us;
    private ScriptedBackend eu;

    /**
     * Starts backends us and eu and a balancer in two regions: us-east (the balancer's) and eu-west;
     * only 127.0.0.2 is a trusted edge.
     */
    private Balancer balancer(String forwarded) throws Exception {
        us = fx.backend("us");
        eu = fx.backend("eu");
        return fx.balancer(BalancerYaml.forProxy().set("region", "us-east")
                .set("routing.region-header", "X-Client-Region")
                .set("backend-header", Fixtures.BACKEND_HEADER)
                .backend(BalancerYaml.Backend.of(us, "us-east"))
                .backend(BalancerYaml.Backend.of(eu, "eu-west"))
                .merge("trusted-edges: { networks: [127.0.0.2/32], proxy-protocol: any }\n"
                        + "headers: { forwarded: " + forwarded + " }"));
    }

    private static HttpHeaders lastSeen(ScriptedBackend backend) {
        return backend.received().get(backend.received().size() - 1).headers();
    }

    @Test
    void anUntrustedClientsForgedHeadersAreDroppedReplacedOrIgnored() throws Exception {
        Balancer b = balancer("drop");
        RawHttpClient.Response r;
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            r = c.send(FORGED).readResponse();
        }
        assertEquals(200, r.status());
        // The region header is ignored: the balancer's own region serves.
        assertEquals("us", r.header(Fixtures.BACKEND_HEADER));
        assertEquals(0, eu.requests());
        HttpHeaders seen = lastSeen(us);
        assertNull(seen.get("Forwarded"), "an untrusted peer's Forwarded is dropped");
        assertEquals("1.2.3.4, 127.0.0.1", seen.get("X-Forwarded-For"), "forwarded, never believed");
        assertEquals("127.0.0.1", seen.get("X-Real-IP"));
        assertEquals("http", seen.get("X-Forwarded-Proto"));
        assertEquals("app.example", seen.get("X-Forwarded-Host"));
        assertEquals(Integer.toString(b.port()), seen.get("X-Forwarded-Port"));
        assertNotEquals("forged-id", seen.get("X-Request-Id"));
        assertEquals(seen.get("X-Request-Id"), r.header("X-Request-Id"));
        assertFalse(seen.get("traceparent").contains(TRACE_ID), "a new trace starts: " + seen.get("traceparent"));
        assertNull(seen.get("tracestate"));
        assertEquals(List.of("eu-west"), seen.getAll("X-Client-Region"), "forwarded as any header, not believed");
    }

    @Test
    void withForwardedSetAnUntrustedClientsForwardedIsReplacedByTheBalancersOwn() throws Exception {
        Balancer b = balancer("set");
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            assertEquals(200, c.send(FORGED.replace("Host: app.example", "Host: app.example:8443"))
                    .readResponse().status());
        }
        assertEquals(List.of("for=127.0.0.1;proto=http;host=\"app.example:8443\""), lastSeen(us).getAll("Forwarded"));
    }

    @Test
    void aTrustedEdgesHeadersAreKeptAppendedToAndBelieved() throws Exception {
        Balancer b = balancer("set");
        RawHttpClient.Response r;
        try (RawHttpClient c = RawHttpClient.connectFrom("127.0.0.2", b.port(), 10_000)) {
            r = c.send(FORGED).readResponse();
        }
        assertEquals(200, r.status());
        assertEquals("eu", r.header(Fixtures.BACKEND_HEADER), "the edge's region header chooses the region");
        HttpHeaders seen = lastSeen(eu);
        assertEquals("for=1.2.3.4;proto=https, for=127.0.0.2;proto=http;host=app.example", seen.get("Forwarded"));
        assertEquals("1.2.3.4, 127.0.0.2", seen.get("X-Forwarded-For"));
        assertEquals("1.2.3.4", seen.get("X-Real-IP"));
        assertEquals("https", seen.get("X-Forwarded-Proto"));
        assertEquals("bank.example", seen.get("X-Forwarded-Host"));
        assertEquals("443", seen.get("X-Forwarded-Port"));
        assertEquals("forged-id", seen.get("X-Request-Id"));
        assertEquals(TRACEPARENT, seen.get("traceparent"));
        assertEquals("vendor=forged", seen.get("tracestate"));
    }

    @Test
    void behindAnL4EdgeTheProxySourceDecidesWhoseHeadersAreBelieved() throws Exception {
        Balancer b = balancer("set");
        // The trusted edge 127.0.0.2 relays an untrusted client's connection: the HTTP head is the
        // client's own, so nothing in it is believed.
        RawHttpClient.Response r;
        try (RawHttpClient c = RawHttpClient.connectFrom("127.0.0.2", b.port(), 10_000)) {
            r = c.send(ProxyHeader.then(ProxyHeader.v2("2001:db8::5", "2001:db8::1", 8443), FORGED)).readResponse();
        }
        assertEquals(200, r.status());
        assertEquals("us", r.header(Fixtures.BACKEND_HEADER));
        HttpHeaders seen = lastSeen(us);
        assertEquals("for=\"[2001:db8:0:0:0:0:0:5]\";proto=http;host=app.example", seen.get("Forwarded"),
                "an IPv6 address is bracketed and quoted (RFC 7239 section 6)");
        assertEquals("8443", seen.get("X-Forwarded-Port"), "the port the client connected to on the edge");
        assertEquals("http", seen.get("X-Forwarded-Proto"));
        assertNotEquals("forged-id", seen.get("X-Request-Id"));

        // A PROXY header whose source is itself a trusted edge: that edge's head is believed.
        try (RawHttpClient c = RawHttpClient.connectFrom("127.0.0.2", b.port(), 10_000)) {
            r = c.send(ProxyHeader.then(ProxyHeader.v2("127.0.0.2", "127.0.0.1", 80), FORGED)).readResponse();
        }
        assertEquals("eu", r.header(Fixtures.BACKEND_HEADER));
        assertEquals("forged-id", lastSeen(eu).get("X-Request-Id"));
    }
}
