package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.ConfigTexts.parse;
import static io.fulcrum.balancer.config.ConfigTexts.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code discovery} section and the backends file: what they read, one error line per mistake. */
class DiscoveryConfigTest {
    @Test
    void dnsReplacesTheBackendsList() throws ConfigException {
        BalancerConfig c = parse("region: us-east\ndiscovery: { dns: { name: api.internal, port: 8080 } }\n");
        assertEquals(List.of(), c.backends());
        assertEquals(new DiscoveryConfig.Dns("api.internal", DiscoveryConfig.Type.A, 8080, null, Duration.ofSeconds(1),
                Duration.ofMinutes(5), "us-east", 1, 512), c.pool("default").discovery().dns());
        assertNull(parse("backends: [{id: a, url: \"http://h:1\"}]\n").pool("default").discovery());
        assertEquals(List.of(), parse("discovery: { dns: { name: a.b, port: 1 } }\nbackends:\n").backends(),
                "an empty backends key goes with discovery");
    }

    @Test
    void readsEveryDnsField() throws ConfigException {
        DiscoveryConfig.Dns d = parse("""
                discovery:
                  dns: { name: _http._tcp.api.internal., type: SRV, server: "[::1]:5353", min-ttl: 2s, max-ttl: 1m,
                         region: eu-west, max-in-flight: 64 }
                """).pool("default").discovery().dns();
        assertEquals(new DiscoveryConfig.Dns("_http._tcp.api.internal.", DiscoveryConfig.Type.SRV, 0, "[::1]:5353",
                Duration.ofSeconds(2), Duration.ofMinutes(1), "eu-west", 1, 64), d);
        assertEquals("10.0.0.2:53", parse("discovery: { dns: { name: a.b, type: AAAA, port: 80, server: 10.0.0.2 } }\n")
                .pool("default").discovery().dns().server());
    }

    @Test
    void readsAFileSection(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("backends.yaml");
        Files.writeString(f, "backends: []\n");
        assertEquals(f.toAbsolutePath(), parse("discovery: { file: \"" + f + "\" }\n").pool("default").discovery().file());
    }

    @Test
    void aPoolHasItsOwnDiscoveryInsteadOfBackends(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("static.yaml");
        Files.writeString(f, "backends: []\n");
        BalancerConfig c = parse("""
                backends: [{id: a, url: "http://h:1"}]
                pools:
                  api: { discovery: { dns: { name: api.internal, port: 80 } } }
                  static: { discovery: { file: "%s" } }
                default-pool: default
                """.formatted(f));
        assertNull(c.pool("default").discovery());
        assertEquals("api.internal", c.pool("api").discovery().dns().name());
        assertEquals(List.of(), c.pool("api").backends());
        assertEquals(f.toAbsolutePath(), c.pool("static").discovery().file());
        assertEquals(List.of("pools.api.discovery: set either pools.api.backends or pools.api.discovery, not both (line 2)"),
                problems("pools:\n  api: { backends: [{id: a, url: \"http://h:1\"}], discovery: { dns: { name: a.b, port: 1 } } }\n"
                        + "default-pool: api\n"));
        assertEquals("pools.api.discovery.dns.port: required with type A (expected: 1-65535) (line 2)",
                problems("pools:\n  api: { discovery: { dns: { name: a.b } } }\ndefault-pool: api\n").get(0));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
        "discovery: {}|discovery: expected dns or file, e.g. { dns: { name: api.internal, port: 8080 } } or { file: /etc/fulcrum/backends.yaml } (line 1)",
        "discovery: 5|discovery: expected a mapping, got 5 (line 1)",
        "discovery: { dns: { name: a.b, port: 1 }, file: /x }|discovery.file: set either discovery.dns or discovery.file, not both (line 1)",
        "discovery: { dns: { port: 1 } }|discovery.dns.name: required (expected: a DNS name such as api.internal) (line 1)",
        "discovery: { dns: { name: \"a b\", port: 1 } }|discovery.dns.name: not a valid DNS name: \"a b\" (line 1)",
        "discovery: { dns: { name: 10.0.0.1, port: 1 } }|discovery.dns.name: not a valid DNS name: \"10.0.0.1\" (line 1)",
        "discovery: { dns: { name: a.b, type: CNAME, port: 1 } }|discovery.dns.type: unknown record type \"CNAME\" (expected: A, AAAA or SRV) (line 1)",
        "discovery: { dns: { name: a.b, type: SVR } }|discovery.dns.type: unknown record type \"SVR\", did you mean \"SRV\"? (expected: A, AAAA or SRV) (line 1)",
        "discovery: { dns: { name: a.b } }|discovery.dns.port: required with type A (expected: 1-65535) (line 1)",
        "discovery: { dns: { name: a.b, port: 0 } }|discovery.dns.port: out of range: 0 (expected: 1-65535) (line 1)",
        "discovery: { dns: { name: a.b, type: SRV, port: 80 } }|discovery.dns.port: SRV records carry their ports (expected: no port with type SRV) (line 1)",
        "discovery: { dns: { name: a.b, type: SRV, weight: 2 } }|discovery.dns.weight: SRV records carry their weights (expected: no weight with type SRV) (line 1)",
        "discovery: { dns: { name: a.b, port: 1, server: dns.local:53 } }|discovery.dns.server: not an address and port: \"dns.local:53\" (expected: IPv4:port or [IPv6]:port, port 53 when omitted) (line 1)",
        "discovery: { dns: { name: a.b, port: 1, server: \"10.0.0.1:99999\" } }|discovery.dns.server: not an address and port: \"10.0.0.1:99999\" (expected: IPv4:port or [IPv6]:port, port 53 when omitted) (line 1)",
        "discovery: { dns: { name: a.b, port: 1, min-ttl: 0s } }|discovery.dns.min-ttl: out of range: 0s (expected: > 0) (line 1)",
        "discovery: { dns: { name: a.b, port: 1, min-ttl: 10s, max-ttl: 5s } }|discovery.dns.max-ttl: max-ttl 5s is shorter than min-ttl 10s (expected: max-ttl >= min-ttl) (line 1)",
        "discovery: { dns: { name: a.b, port: 1, region: \"a b\" } }|discovery.dns.region: not a valid region name: \"a b\" (expected: letters, digits, '.', '_' or '-') (line 1)",
        "discovery: { dns: { name: a.b, port: 1, max-in-flight: 0 } }|discovery.dns.max-in-flight: out of range: 0 (expected: >= 1) (line 1)",
        "discovery: { dns: { name: a.b, port: 1, ttl: 1s } }|discovery.dns.ttl: unknown key (line 1)",
        "discovery: { file: /no/such/file.yaml }|discovery.file: cannot read \"/no/such/file.yaml\" (expected: a YAML or JSON file with `backends`) (line 1)",
        "discovery: { dns: { name: a.b, port: 1 } }\\nbackends: [{id: a, url: \"http://h:1\"}]|discovery: set either backends or discovery, not both (line 1)",
    })
    void reportsOneLineNamingPathAndLine(String yaml, String expected) {
        assertEquals(List.of(expected), problems(yaml.replace("\\n", "\n") + "\n"));
    }

    @Test
    void aBackendsFileIsCheckedLikeTheBackendsList() {
        ConfigException e = assertThrows(ConfigException.class, () -> BackendsFile.parse(
                "backends:\n  - { id: a, url: \"http://h:1\" }\n  - { id: a, url: \"ftp://h\" }\nother: 1\n", "b.yaml", "r"));
        assertEquals(List.of(
                "b.yaml: backends[1].id: duplicate id \"a\", already used by backends[0] (line 3)",
                "b.yaml: backends[1].url: not an http URL: \"ftp://h\" (expected: http://host[:port] or https://host[:port]) (line 3)",
                "b.yaml: other: unknown key (line 4)"), e.problems());
    }

    @Test
    void aBackendsFileTakesTheDefaultRegion() throws ConfigException {
        assertEquals(List.of(new BackendConfig("a", "h", 1, "eu", 2, 512)),
                BackendsFile.parse("{\"backends\": [{\"id\": \"a\", \"url\": \"http://h:1\", \"weight\": 2}]}", "b.json", "eu"));
    }
}
