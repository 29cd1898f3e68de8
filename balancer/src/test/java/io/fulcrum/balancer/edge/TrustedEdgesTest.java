package io.fulcrum.balancer.edge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.config.Cidr;
import io.fulcrum.balancer.config.TrustedEdgesConfig;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ProxyHeader;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code trusted-edges} over real sockets: the PROXY protocol (v1 and v2) from a trusted peer sets
 * the client address that the backend and the access log see, anybody else's PROXY header closes
 * the connection, and X-Forwarded-For chains are believed only as far as trusted hops go.
 */
class TrustedEdgesTest {
    private static final String GET = "GET /who HTTP/1.1\r\nHost: app\r\n";

    @RegisterExtension
    final Fixtures fx = new Fixtures();
    private ScriptedBackend backend;

    /** Starts backend b1 and a balancer in front of it with these {@code trusted-edges}. */
    private Balancer balancer(String edges) throws Exception {
        backend = fx.backend("b1");
        return fx.balancer(yaml(edges));
    }

    private BalancerYaml yaml(String edges) {
        // Requests are found in the access log by the ids they send, whoever sends them.
        return BalancerYaml.forProxy().backends(backend).set("access-log", fx.accessLog().toString())
                .set("headers.request-id", "any").merge(edges);
    }

    private HttpRequest lastRequest() {
        List<HttpRequest> received = backend.received();
        return received.get(received.size() - 1);
    }

    /** The access-log line of the request with {@code X-Request-Id: id}. */
    private JsonNode logged(String id) {
        Predicate<JsonNode> ofId = line -> line.get("request_id").asText().equals(id);
        return fx.accessLogLines(lines -> assertTrue(lines.stream().anyMatch(ofId), "no access log line of " + id))
                .stream().filter(ofId).findFirst().orElseThrow();
    }

    private static void assertClosedWithoutAnswer(RawHttpClient c) {
        assertThrows(IOException.class, c::readResponse, "the connection closes without a response");
    }

    /** Sends {@code request} on a new connection, which closes without an answer. */
    private static void assertRefused(Balancer b, String request) throws IOException {
        assertRefused(b, request.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static void assertRefused(Balancer b, byte[] request) throws IOException {
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            c.send(request);
            assertClosedWithoutAnswer(c);
        }
    }

    /** Sends {@code request} on a new connection, which answers 200. */
    private static void assertServed(Balancer b, String request) throws IOException {
        assertServed(b, request.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static void assertServed(Balancer b, byte[] request) throws IOException {
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            assertEquals(200, c.send(request).readResponse().status());
        }
    }

    @Test
    void proxyV1FromATrustedPeerNamesTheClient() throws Exception {
        Balancer b = balancer("trusted-edges: { networks: [127.0.0.0/8], proxy-protocol: any }");
        try (RawHttpClient c = RawHttpClient.connect(b.port(), 10_000)) {
            c.send("PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n" + GET + "X-Request-Id: v1-a\r\n\r\n");
            assertEquals(200, c.readResponse().status());
            // A second request on the same connection keeps the header's address.
            assertEquals(200, c.send(GET + "X-Request-Id: v1-b\r\n\r\n").readResponse().status());
        }
        HttpRequest seen = lastRequest();
        assertEquals("203.0.113.7", seen.headers().get("X-Forwarded-For"));
        assertEquals("203.0.113.7", seen.headers().get("X-Real-IP"));
        assertEquals("203.0.113.7", logged("v1-a").get("client").asText());
        assertEquals("203.0.113.7", logged("v1-b").get("client").asText());
    }

    @Test
    void proxyV2FromATrustedPeerNamesTheClientIpv6Too() throws Exception {
        Balancer b = balancer("trusted-edges: { networks: [127.0.0.0/8], proxy-protocol: v2 }");
        assertServed(b, ProxyHeader.then(ProxyHeader.v2("2001:db8::5", "2001:db8::1", 80),
                GET + "X-Request-Id: v2-a\r\n\r\n"));
        assertEquals("2001:db8:0:0:0:0:0:5", lastRequest().headers().get("X-Real-IP"));
        assertEquals("2001:db8:0:0:0:0:0:5", logged("v2-a").get("client").asText());
        assertServed(b, ProxyHeader.then(ProxyHeader.v2("198.51.100.20", "10.0.0.1", 80),
                GET + "X-Request-Id: v2-b\r\n\r\n"));
        assertEquals("198.51.100.20", logged("v2-b").get("client").asText());
        assertEquals("198.51.100.20", lastRequest().headers().get("X-Forwarded-For"));

        // LOCAL: the edge speaking for itself (its health check); the peer is the client.
        assertServed(b, ProxyHeader.then(ProxyHeader.v2Local(), GET + "X-Request-Id: v2-local\r\n\r\n"));
        assertEquals("127.0.0.1", logged("v2-local").get("client").asText());
    }

    @Test
    void aProxyHeaderFromAnUntrustedPeerClosesTheConnection() throws Exception {
        // Only 127.0.0.2 is trusted; the tests' usual 127.0.0.1 is not.
        Balancer b = balancer("trusted-edges: { networks: [127.0.0.2/32], proxy-protocol: any }");
        assertRefused(b, "PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n" + GET + "\r\n");
        assertRefused(b, ProxyHeader.then(ProxyHeader.v2("203.0.113.7", "10.0.0.1", 80), GET + "\r\n"));
        assertEquals(0, backend.requests(), "nothing reached a backend");
        assertEquals(2, b.proxy().proxyHeadersRefused());
        assertTrue(b.meterRegistry().scrape().contains("fulcrum_proxy_protocol_refused_total 2.0"));

        // The same header from the trusted peer is taken; a plain request from the other one works.
        try (RawHttpClient c = RawHttpClient.connectFrom("127.0.0.2", b.port(), 10_000)) {
            c.send("PROXY TCP4 203.0.113.8 127.0.0.1 51000 80\r\n" + GET + "X-Request-Id: from-2\r\n\r\n");
            assertEquals(200, c.readResponse().status());
        }
        assertEquals("203.0.113.8", logged("from-2").get("client").asText());
        assertServed(b, GET + "X-Request-Id: from-1\r\n\r\n");
        assertEquals("127.0.0.1", logged("from-1").get("client").asText());
    }

    @Test
    void aVersionNotAcceptedClosesTheConnectionEvenFromATrustedPeer() throws Exception {
        Balancer b = balancer("trusted-edges: { networks: [127.0.0.0/8], proxy-protocol: v2 }");
        assertRefused(b, "PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n" + GET + "\r\n");
        assertRefused(b, "PROXY TCP4 not-an-address\r\n" + GET + "\r\n");
        assertEquals(0, backend.requests());
    }

    @Test
    void aMalformedHeaderFromATrustedPeerClosesTheConnection() throws Exception {
        Balancer b = balancer("trusted-edges: { networks: [127.0.0.0/8], proxy-protocol: any }");
        assertRefused(b, "PROXY TCP4 999.1.1.1 127.0.0.1 51000 80\r\n" + GET + "\r\n");
        assertEquals(0, backend.requests());
        // Netty's decoder closes the connection before it reports the bad header.
        await().atMost(Fixtures.WAIT).until(() -> b.proxy().proxyHeadersRefused() == 1);
    }

    /**
     * Who the client is for one request: what the peer's trust, its PROXY header and the
     * X-Forwarded-For it sends make of it, as the backend (X-Real-IP, X-Forwarded-For) and the
     * access log (found by the request's id) see it.
     */
    static Stream<Arguments> whoTheClientIs() {
        return Stream.of(
                Arguments.of("a trusted peer may send no header and is then the client",
                        "trusted-edges: { networks: [127.0.0.0/8], proxy-protocol: any }",
                        GET + "X-Request-Id: plain\r\n\r\n", "plain", "127.0.0.1", "127.0.0.1"),
                // The rightmost untrusted hop; the chain goes on with the peer appended.
                Arguments.of("X-Forwarded-For from a trusted peer is believed up to the first untrusted hop",
                        "trusted-edges: { networks: [127.0.0.0/8, 10.0.0.0/8] }",
                        GET + "X-Request-Id: xff\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.9\r\n"
                                + "X-Forwarded-For: 10.0.0.2\r\nX-Real-IP: 6.6.6.6\r\n\r\n",
                        "xff", "203.0.113.9", "198.51.100.1, 203.0.113.9, 10.0.0.2, 127.0.0.1"),
                Arguments.of("X-Forwarded-For from an untrusted peer is only forwarded",
                        "trusted-edges: { networks: [10.0.0.0/8] }",
                        GET + "X-Request-Id: spoof\r\nX-Forwarded-For: 10.0.0.3, 203.0.113.9\r\nX-Real-IP: 6.6.6.6\r\n\r\n",
                        "spoof", "127.0.0.1", "10.0.0.3, 203.0.113.9, 127.0.0.1"),
                // An L4 edge (PROXY) in front of a CDN hop (10.1.1.1) in front of the client.
                Arguments.of("a PROXY header and X-Forwarded-For together",
                        "trusted-edges: { networks: [127.0.0.0/8, 10.0.0.0/8], proxy-protocol: v1 }",
                        "PROXY TCP4 10.1.1.1 127.0.0.1 51000 80\r\n" + GET
                                + "X-Request-Id: both\r\nX-Forwarded-For: 192.0.2.44\r\n\r\n",
                        "both", "192.0.2.44", "192.0.2.44, 10.1.1.1"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void whoTheClientIs(String what, String edges, String request, String requestId, String client,
            String forwardedFor) throws Exception {
        Balancer b = balancer(edges);
        assertServed(b, request);
        HttpRequest seen = lastRequest();
        assertEquals(client, seen.headers().get("X-Real-IP"), "X-Real-IP");
        assertEquals(forwardedFor, seen.headers().get("X-Forwarded-For"), "X-Forwarded-For");
        assertEquals(client, logged(requestId).get("client").asText(), "the access log's client");
    }

    @Test
    void aReloadChangesWhoIsTrustedForNewConnections() throws Exception {
        Balancer b = balancer("trusted-edges: { networks: [10.0.0.0/8], proxy-protocol: v1 }");
        assertRefused(b, "PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n" + GET + "\r\n");
        fx.reload(yaml("trusted-edges: { networks: [127.0.0.0/8], proxy-protocol: v1 }"));
        assertServed(b, "PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n" + GET + "X-Request-Id: reloaded\r\n\r\n");
        assertEquals("203.0.113.7", logged("reloaded").get("client").asText());
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAfterClientIdle() throws Exception {
        backend = fx.backend("b1");
        Balancer b = fx.balancer(BalancerYaml.forProxy().backends(backend).set("timeouts.client-idle", "300ms")
                .merge("trusted-edges: { networks: [127.0.0.0/8], proxy-protocol: any }"));
        try (RawHttpClient silent = RawHttpClient.connect(b.port(), 10_000);
                RawHttpClient partial = RawHttpClient.connect(b.port(), 10_000)) {
            // Half a v2 signature: still waiting for the rest when client-idle comes.
            partial.send(new byte[] {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D});
            assertEquals(-1, silent.input().read(), "closed by the balancer");
            assertEquals(-1, partial.input().read(), "closed by the balancer");
        }
        assertEquals(0, backend.requests());
    }

    // ---- the X-Forwarded-For rule on its own ----

    private static String client(String networks, boolean forwardedFor, String peer, String... xff) throws Exception {
        List<Cidr> cidrs = java.util.Arrays.stream(networks.split(",")).map(String::trim).map(Cidr::parse).toList();
        TrustedEdges edges = new TrustedEdges(new TrustedEdgesConfig(cidrs, forwardedFor,
                TrustedEdgesConfig.ProxyProtocol.OFF));
        HttpHeaders headers = new DefaultHttpHeaders();
        for (String line : xff) {
            headers.add("X-Forwarded-For", line);
        }
        return edges.client(InetAddress.getByName(peer), peer, headers);
    }

    @Test
    void theForwardedForRule() throws Exception {
        assertEquals("203.0.113.9", client("10.0.0.0/8", true, "10.0.0.1", "203.0.113.9"));
        assertEquals("203.0.113.9", client("10.0.0.0/8", true, "10.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.7"),
                "rightmost untrusted, not leftmost");
        assertEquals("10.0.0.5", client("10.0.0.0/8", true, "10.0.0.1", "10.0.0.5, 10.0.0.7"),
                "every hop trusted: the leftmost");
        assertEquals("10.0.0.7", client("10.0.0.0/8", true, "10.0.0.1", "203.0.113.9, garbage, 10.0.0.7"),
                "the walk stops at an entry that is not an address");
        assertEquals("10.0.0.1", client("10.0.0.0/8", true, "10.0.0.1", "unknown"));
        assertEquals("10.0.0.1", client("10.0.0.0/8", true, "10.0.0.1"), "no header: the peer");
        assertEquals("10.0.0.1", client("10.0.0.0/8", true, "10.0.0.1", ""));
        assertEquals("2001:db8:0:0:0:0:0:1", client("10.0.0.0/8, fd00::/8", true, "fd00::1", "[2001:db8::1], fd00::2"));
        assertEquals("192.0.2.1", client("10.0.0.0/8", true, "192.0.2.1", "203.0.113.9"), "untrusted peer");
        assertEquals("10.0.0.1", client("10.0.0.0/8", false, "10.0.0.1", "203.0.113.9"), "forwarded-for: false");
        assertEquals("203.0.113.9", client("10.0.0.0/8", true, "10.0.0.1", "198.51.100.1", "203.0.113.9 , 10.0.0.8"),
                "several lines are one list");
    }
}
