package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.ConfigTexts.ONE_BACKEND;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code affinity} section: what it reads, and one error line per mistake with its path and line. */
class AffinityConfigTest {
    private static AffinityConfig affinity(String section) throws ConfigException {
        return ConfigLoader.parse(ONE_BACKEND + section, "test.yaml").routing().affinity();
    }

    private static List<String> problems(String section) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.parse(ONE_BACKEND + section, "test.yaml"))
                .problems();
    }

    @Test
    void noAffinityByDefault() throws ConfigException {
        assertNull(affinity(""));
        assertNull(affinity("affinity:\n"));
    }

    @Test
    void readsACookieWithItsDefaults() throws ConfigException {
        AffinityConfig a = affinity("affinity: { cookie: {} }\n");
        assertEquals(new AffinityConfig.Cookie("FULCRUM_AFFINITY", null, null), a.cookie());
        assertNull(a.hash());
        assertEquals(a, affinity("affinity: { cookie: }\n"));
    }

    @Test
    void readsACookieWithASecretAndMaxAge() throws ConfigException {
        AffinityConfig.Cookie c = affinity(
                "affinity: { cookie: { name: SRV, secret: \" sixteen chars at least \", max-age: 1h } }\n").cookie();
        assertEquals("SRV", c.name());
        assertArrayEquals("sixteen chars at least".getBytes(StandardCharsets.UTF_8), c.secret());
        assertEquals(Duration.ofHours(1), c.maxAge());
        assertFalse(c.toString().contains("sixteen"), "the secret never shows: " + c);
    }

    @Test
    void readsTheSecretFromAFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("key");
        Files.writeString(f, "0123456789abcdef-from-a-file\n");
        AffinityConfig.Cookie c = affinity("affinity: { cookie: { secret-file: \"" + f + "\" } }\n").cookie();
        assertArrayEquals("0123456789abcdef-from-a-file".getBytes(StandardCharsets.UTF_8), c.secret());
    }

    @Test
    void readsEachHashSource() throws ConfigException {
        assertEquals(new AffinityConfig.Hash(AffinityConfig.Hash.Source.HEADER, "X-User", 1.25),
                affinity("affinity: { hash: { on: \"header:X-User\" } }\n").hash());
        assertEquals(new AffinityConfig.Hash(AffinityConfig.Hash.Source.COOKIE, "session", 2),
                affinity("affinity: { hash: { on: \"cookie:session\", balance-factor: 2 } }\n").hash());
        assertEquals(new AffinityConfig.Hash(AffinityConfig.Hash.Source.PATH, null, 1),
                affinity("affinity:\n  hash:\n    on: path\n    balance-factor: 1.0\n").hash());
        assertEquals(new AffinityConfig.Hash(AffinityConfig.Hash.Source.CLIENT_ADDRESS, null, 1.25),
                affinity("affinity: { hash: { on: client-address } }\n").hash());
    }

    @Test
    void aChangedAffinityIsADifferentConfig() throws ConfigException {
        assertTrue(!affinity("affinity: { cookie: { secret: \"0123456789abcdef\" } }\n")
                .equals(affinity("affinity: { cookie: { secret: \"0123456789abcdeF\" } }\n")));
    }

    @Test
    void poolsInheritTheTopLevelAffinityOrSetTheirOwn() throws ConfigException {
        BalancerConfig c = ConfigLoader.parse("""
                backends: [{id: a, url: "http://h:1"}]
                affinity: { cookie: { name: SRV } }
                pools:
                  inherits: { backends: [{id: b, url: "http://h:2"}], routing: { policy: random } }
                  hashed: { backends: [{id: c, url: "http://h:3"}], affinity: { hash: { on: path } } }
                  none: { backends: [{id: d, url: "http://h:4"}], affinity: ~ }
                default-pool: default
                """, "test.yaml");
        assertEquals("SRV", c.pool("default").routing().affinity().cookie().name());
        assertEquals("SRV", c.pool("inherits").routing().affinity().cookie().name());
        assertEquals(RoutingConfig.Policy.RANDOM, c.pool("inherits").routing().policy());
        assertEquals(AffinityConfig.Hash.Source.PATH, c.pool("hashed").routing().affinity().hash().on());
        assertNull(c.pool("none").routing().affinity());
        assertEquals(List.of("pools.p.affinity.hash.on: required (expected: header:NAME, cookie:NAME, path or client-address) (line 3)"),
                problems("pools:\n  p: { backends: [{id: b, url: \"http://h:2\"}], affinity: { hash: {} } }\ndefault-pool: p\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
        "affinity: 5|affinity: expected a mapping, got 5 (line 2)",
        "affinity: {}|affinity: expected cookie or hash, e.g. { cookie: { name: FULCRUM_AFFINITY } } or { hash: { on: header:X-User-Id } } (line 2)",
        "affinity: { sticky: {} }|affinity.sticky: unknown key (line 2)",
        "affinity: { cookie: {}, hash: { on: path } }|affinity.hash: set either affinity.cookie or affinity.hash, not both (line 2)",
        "affinity: { cookie: { nme: X } }|affinity.cookie.nme: unknown key, did you mean \"name\"? (line 2)",
        "affinity: { cookie: { name: \"a b\" } }|affinity.cookie.name: not a valid header name: \"a b\" (expected: an RFC 9110 token) (line 2)",
        "affinity: { cookie: { secret: short } }|affinity.cookie.secret: too short (expected: at least 16 characters) (line 2)",
        "affinity: { cookie: { secret: \"0123456789abcdef\", secret-file: /x } }|affinity.cookie.secret-file: set either affinity.cookie.secret or affinity.cookie.secret-file, not both (line 2)",
        "affinity: { cookie: { secret-file: /no/such/file } }|affinity.cookie.secret-file: cannot read \"/no/such/file\": /no/such/file (line 2)",
        "affinity: { cookie: { max-age: 0s } }|affinity.cookie.max-age: out of range: 0s (expected: > 0) (line 2)",
        "affinity: { cookie: [] }|affinity.cookie: expected a mapping, got a list (line 2)",
        "affinity: { hash: {} }|affinity.hash.on: required (expected: header:NAME, cookie:NAME, path or client-address) (line 2)",
        "affinity: { hash: { on: url } }|affinity.hash.on: unknown key source \"url\" (expected: header:NAME, cookie:NAME, path or client-address) (line 2)",
        "affinity: { hash: { on: pth } }|affinity.hash.on: unknown key source \"pth\", did you mean \"path\"? (expected: header:NAME, cookie:NAME, path or client-address) (line 2)",
        "affinity: { hash: { on: \"header:\" } }|affinity.hash.on: not a valid header name in \"header:\" (expected: header:NAME, NAME an RFC 9110 token) (line 2)",
        "affinity: { hash: { on: header } }|affinity.hash.on: not a valid header name in \"header\" (expected: header:NAME, NAME an RFC 9110 token) (line 2)",
        "affinity: { hash: { on: \"path:x\" } }|affinity.hash.on: \"path\" takes no name, got \"path:x\" (expected: header:NAME, cookie:NAME, path or client-address) (line 2)",
        "affinity: { hash: { on: path, balance-factor: 0.9 } }|affinity.hash.balance-factor: out of range: 0.9 (expected: >= 1 and <= 100) (line 2)",
        "affinity: { hash: { on: path, balance-factor: lots } }|affinity.hash.balance-factor: expected a number, got \"lots\" (line 2)",
    })
    void reportsOneLineNamingPathAndLine(String yaml, String expected) {
        assertEquals(List.of(expected), problems(yaml + "\n"));
    }
}
