package io.fulcrum.balancer.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.ScriptedBackend;
import java.net.http.HttpResponse;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code client-networks} over real sockets with the JDK's HTTP client: the client address that
 * trusted edges name (IPv4 and IPv6) is let through or answered 403 before any backend, a route's
 * own lists replace the top level's, and the access log and the meters say why.
 */
class ClientNetworksTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private static final String LISTS = """
            trusted-edges: { networks: [127.0.0.0/8, "::1/128"] }
            client-networks: { allow: [198.51.100.0/24, "2001:db8::/32"], deny: [198.51.100.66/32, "2001:db8:bad::/48"] }
            routes:
              - { name: open, match: { path: { prefix: /open } }, pool: default, client-networks: { deny: [203.0.113.9] } }
              - { name: app, match: { path: { prefix: / } }, pool: default }
            """;

    private static HttpResponse<String> get(Balancer b, String path, String forwardedFor) throws Exception {
        return Browser.get(b, path, "X-Forwarded-For", forwardedFor);
    }

    static Stream<Arguments> whoGetsIn() {
        return Stream.of(
                Arguments.of("/app", "198.51.100.7", 200, null, "in an allowed IPv4 network"),
                Arguments.of("/app", "198.51.100.66", 403, "client address denied (client-networks.deny)",
                        "denied although allowed: deny wins"),
                Arguments.of("/app", "192.0.2.1", 403, "client address not allowed (client-networks.allow)",
                        "in no allowed network"),
                Arguments.of("/app", "2001:db8::1", 200, null, "in an allowed IPv6 network"),
                Arguments.of("/app", "2001:db8:bad::1", 403, "client address denied (client-networks.deny)",
                        "in a denied IPv6 network"),
                Arguments.of("/open/x", "192.0.2.1", 200, null, "the route's own list replaces the top level's"),
                Arguments.of("/open/x", "203.0.113.9", 403, "client address denied (client-networks.deny)",
                        "denied by the route's own list"));
    }

    @ParameterizedTest(name = "{4}")
    @MethodSource
    void whoGetsIn(String path, String client, int status, String error, String why) throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        Balancer b = fx.balancer(BalancerYaml.forProxy().backends(backend).set("access-log", fx.accessLog().toString())
                .merge(LISTS));
        HttpResponse<String> r = get(b, path, client);
        assertEquals(status, r.statusCode(), why + ": " + r.body());
        if (status == 403) {
            assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(null));
            assertTrue(r.body().startsWith("{\"error\":\"forbidden\",\"requestId\":\""), r.body());
            assertEquals(0, backend.requests(), "no backend saw a refused request");
            assertEquals(1, b.proxy().accessRefused());
            assertTrue(b.meterRegistry().scrape().contains("fulcrum_access_refused_total 1.0"));
        }
        var line = fx.accessLogLines(lines -> assertEquals(1, lines.size())).get(0);
        assertEquals(status, line.get("status").asInt());
        assertEquals(error == null ? "" : error, line.path("error").asText(""), line.toString());
    }

    @Test
    void withoutTrustedEdgesTheConnectionsPeerIsTheClientAndAReloadChangesTheLists() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        BalancerYaml yaml = BalancerYaml.forProxy().backends(backend);
        Balancer b = fx.balancer(yaml.merge("client-networks: { deny: [127.0.0.0/8] }"));
        // A forged X-Forwarded-For from an untrusted peer changes nothing.
        assertEquals(403, get(b, "/", "198.51.100.7").statusCode());
        fx.reload(yaml.merge("client-networks: { deny: [], allow: [127.0.0.1/32] }"));
        assertEquals(200, get(b, "/", "198.51.100.7").statusCode());
        assertEquals(1, backend.requests());
    }
}
