package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.ConfigTexts.ONE_BACKEND;
import static io.fulcrum.balancer.config.ConfigTexts.sectionProblems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The keys of {@code trusted-edges} and {@code rate-limit}: values read, defaults, and the errors whose
 * start alone is pinned. The errors pinned whole, one per bad key, are rows of {@link ConfigLoaderTest}'s
 * table of one-line mistakes.
 */
class EdgeConfigTest {
    private static BalancerConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse(ONE_BACKEND + yaml, "test.yaml");
    }

    @Test
    void neitherIsOnByDefault() throws ConfigException {
        BalancerConfig c = parse("");
        assertNull(c.trustedEdges());
        assertNull(c.rateLimit());
    }

    @Test
    void readsTrustedEdgesWithTheirDefaults() throws Exception {
        TrustedEdgesConfig t = parse("trusted-edges: { networks: [10.0.0.0/8, \"fd00::/8\"] }\n").trustedEdges();
        assertEquals(2, t.networks().size());
        assertTrue(t.networks().get(0).contains(InetAddress.getByName("10.9.8.7")));
        assertTrue(t.forwardedFor(), "X-Forwarded-For is read by default");
        assertEquals(TrustedEdgesConfig.ProxyProtocol.OFF, t.proxyProtocol(), "PROXY headers are refused by default");

        TrustedEdgesConfig all = parse("trusted-edges:\n  networks: [127.0.0.1]\n  forwarded-for: false\n"
                + "  proxy-protocol: v2\n").trustedEdges();
        assertFalse(all.forwardedFor());
        assertEquals(TrustedEdgesConfig.ProxyProtocol.V2, all.proxyProtocol());
        assertTrue(all.proxyProtocol().accepts(2));
        assertFalse(all.proxyProtocol().accepts(1));
        assertEquals(TrustedEdgesConfig.ProxyProtocol.ANY,
                parse("trusted-edges: { networks: [127.0.0.1], proxy-protocol: any }\n").trustedEdges().proxyProtocol());
        assertEquals(TrustedEdgesConfig.ProxyProtocol.OFF,
                parse("trusted-edges: { networks: [127.0.0.1], proxy-protocol: off }\n").trustedEdges().proxyProtocol(),
                "off is the word, not YAML 1.1's boolean");
    }

    @Test
    void readsTheRateLimitWithItsDefaults() throws Exception {
        RateLimitConfig r = parse("rate-limit: { rate: 100/s }\n").rateLimit();
        assertEquals("100/s", r.rate());
        assertEquals(100.0, r.perSecond());
        assertEquals(100, r.burst(), "one second's worth by default");
        assertNull(r.header(), "keyed on the client address by default");
        assertEquals("client-address", r.key());
        assertEquals(100_000, r.maxKeys());

        RateLimitConfig all = parse("rate-limit:\n  rate: 600/m\n  burst: 20\n  key: header:X-Api-Key\n"
                + "  max-keys: 5000\n").rateLimit();
        assertEquals(10.0, all.perSecond());
        assertEquals(20, all.burst());
        assertEquals("X-Api-Key", all.header());
        assertEquals("header:X-Api-Key", all.key());
        assertEquals(5000, all.maxKeys());
        RateLimitConfig slow = parse("rate-limit: { rate: 36/h }\n").rateLimit();
        assertEquals(0.01, slow.perSecond(), 1e-12);
        assertEquals(1, slow.burst(), "never less than one");
        assertEquals(2.5, parse("rate-limit: { rate: 2.5/s }\n").rateLimit().perSecond());
    }

    /** Cases whose message ends in text of the JDK or a list of keys: only its start is pinned. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "trusted-edges: { networks: [edge.example.com] } | trusted-edges.networks[0]: not an IP address or network: edge.example.com",
        "trusted-edges: { networks: [10.0.0.0/8], trusted: [1.2.3.4] } | trusted-edges.trusted: unknown key",
        "rate-limit: { rate: 10/s, burts: 5 } | rate-limit.burts: unknown key",
    })
    void badKeysNameTheFieldFirst(String section, String start) {
        assertTrue(sectionProblems(section + "\n").get(0).startsWith(start));
    }

    @Test
    void aRouteMayHaveARateLimitOfItsOwn() throws Exception {
        BalancerConfig c = parse("""
                rate-limit: { rate: 10/s }
                routes:
                  - match: { path: { prefix: /api } }
                    pool: default
                    rate-limit: { rate: 5/m, key: header:X-Api-Key }
                  - { match: { path: { prefix: / } }, pool: default }
                """);
        assertEquals("header:X-Api-Key", c.routes().get(0).rateLimit().key());
        assertEquals(1, c.routes().get(0).rateLimit().burst());
        assertNull(c.routes().get(1).rateLimit(), "the top-level limit applies");
        assertEquals(List.of("routes[0].rate-limit.rate: \"5/week\" is not a rate such as 100/s, 600/m or 1000/h (line 5)"),
                sectionProblems("""
                routes:
                  - match: { path: { prefix: /api } }
                    pool: default
                    rate-limit: { rate: 5/week }
                """));
        assertTrue(sectionProblems("routes: [{ pool: default, rate-limit: { rate: 5/s, max-key: 9 } }]\n").get(0)
                .startsWith("routes[0].rate-limit.max-key: unknown key"));
        assertTrue(parse("routes: [{ pool: default, rate-limit: off }]\n").routes().get(0).rateLimit().off());
        assertEquals(List.of("rate-limit: expected a mapping, got off (line 2)"), sectionProblems("rate-limit: off\n"),
                "off is for routes: without a top-level rate-limit there is none");
    }

    @Test
    void theReferenceConfigDocumentsBoth() throws Exception {
        java.nio.file.Path file = java.nio.file.Path.of("../config/balancer-reference.yaml");
        BalancerConfig c = ConfigLoader.load(java.nio.file.Files.exists(file) ? file
                : java.nio.file.Path.of("config/balancer-reference.yaml"));
        assertEquals(TrustedEdgesConfig.ProxyProtocol.OFF, c.trustedEdges().proxyProtocol());
        assertTrue(c.trustedEdges().forwardedFor());
        assertEquals(100_000, c.rateLimit().maxKeys());
        assertEquals("client-address", c.rateLimit().key());
    }

    @Test
    void equalSectionsMakeEqualConfigs() throws Exception {
        assertEquals(parse("rate-limit: { rate: 10/s }\ntrusted-edges: { networks: [10.0.0.0/8] }\n"),
                parse("rate-limit:\n  rate: 10/s\n  burst: 10\ntrusted-edges:\n  networks: [\"10.0.0.0/8\"]\n"),
                "a reload with the same limit keeps its buckets");
    }
}
