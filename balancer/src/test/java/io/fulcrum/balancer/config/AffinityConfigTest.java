package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.ConfigTexts.ONE_BACKEND;
import static io.fulcrum.balancer.config.ConfigTexts.sectionProblems;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code affinity} section: what it reads. Its one-line mistakes, each reported as one error line
 * with its path and line, are rows of {@link ConfigLoaderTest}'s table of them.
 */
class AffinityConfigTest {
    private static AffinityConfig affinity(String section) throws ConfigException {
        return ConfigLoader.parse(ONE_BACKEND + section, "test.yaml").routing().affinity();
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
                sectionProblems("pools:\n  p: { backends: [{id: b, url: \"http://h:2\"}], affinity: { hash: {} } }\ndefault-pool: p\n"));
    }
}
