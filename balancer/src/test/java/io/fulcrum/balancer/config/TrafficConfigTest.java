package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.ConfigTexts.parse;
import static io.fulcrum.balancer.config.ConfigTexts.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** How a route shares out its traffic: {@code split}, {@code split-by}, {@code mirror} and {@code hedge}: mapping and errors. */
class TrafficConfigTest {
    private static final String POOLS = """
            pools:
              v1:
                backends: [{id: a1, url: "http://127.0.0.1:9001"}]
              v2:
                backends: [{id: b1, url: "http://127.0.0.1:9002"}]
            """;

    @Test
    void aSplitNamesItsPoolsAndWeightsInFileOrder() throws ConfigException {
        BalancerConfig c = parse(POOLS + """
                routes:
                  - split: [{ pool: v1, weight: 95 }, { pool: v2, weight: 5 }]
                    split-by: header:X-User-Id
                  - split: [{ pool: v2, weight: 1 }, { pool: v1, weight: 0 }]
                """);
        RouteAction.Split sticky = (RouteAction.Split) c.routes().get(0).action();
        assertEquals(List.of(new RouteAction.Share("v1", 95), new RouteAction.Share("v2", 5)), sticky.shares());
        assertEquals(100, sticky.totalWeight());
        assertEquals(AffinityConfig.Hash.Source.HEADER, sticky.stickyBy().on());
        assertEquals("X-User-Id", sticky.stickyBy().name());
        RouteAction.Split random = (RouteAction.Split) c.routes().get(1).action();
        assertNull(random.stickyBy());
        assertEquals(List.of("v2", "v1"), RouteAction.pools(random));
    }

    @Test
    void aMirrorNamesItsShadowPoolWithDefaults() throws ConfigException {
        BalancerConfig c = parse(POOLS + """
                routes:
                  - { pool: v1, mirror: { pool: v2 } }
                  - { pool: v1, mirror: { pool: v2, percent: 0.5, max-body-bytes: 0 } }
                  - { pool: v1 }
                """);
        assertEquals(new MirrorConfig("v2", 100, 65_536), c.routes().get(0).traffic().mirror());
        assertEquals(new MirrorConfig("v2", 0.5, 0), c.routes().get(1).traffic().mirror());
        assertEquals(RouteTrafficConfig.NONE, c.routes().get(2).traffic());
    }

    @Test
    void aHedgeHasAFixedOrObservedDelayAndItsMethods() throws ConfigException {
        BalancerConfig c = parse(POOLS + """
                routes:
                  - { pool: v1, hedge: { delay: 50ms } }
                  - { pool: v1, hedge: {} }
                  - { split: [{ pool: v1, weight: 1 }], hedge: { delay: p95, min-delay: 5ms, methods: [GET, PUT] } }
                """);
        assertEquals(new HedgeConfig(Duration.ofMillis(50), HedgeConfig.DEFAULT_MIN_DELAY, List.of("GET", "HEAD")),
                c.routes().get(0).traffic().hedge());
        assertEquals(new HedgeConfig(null, Duration.ofMillis(10), List.of("GET", "HEAD")),
                c.routes().get(1).traffic().hedge());
        assertTrue(c.routes().get(1).traffic().hedge().observed());
        assertEquals(new HedgeConfig(null, Duration.ofMillis(5), List.of("GET", "PUT")),
                c.routes().get(2).traffic().hedge());
    }

    static Stream<Arguments> errors() {
        return Stream.of(
                arguments(POOLS + "routes:\n  - split: { pool: v1 }\n",
                        "routes[0].split: expected a list of pools and weights, e.g. [{ pool: v1, weight: 95 },"
                                + " { pool: v2, weight: 5 }], got a mapping (line 7)"),
                arguments(POOLS + "routes:\n  - split: [{ pool: v3, weight: 1 }]\n",
                        "routes[0].split[0].pool: no pool named \"v3\", did you mean \"v1\"? (expected: one of v1, v2) (line 7)"),
                arguments(POOLS + "routes:\n  - split: [{ pool: v1 }]\n",
                        "routes[0].split[0].weight: required (expected: 0-1000000) (line 7)"),
                arguments(POOLS + "routes:\n  - split: [{ pool: v1, weight: -1 }]\n",
                        "routes[0].split[0].weight: out of range: -1 (expected: 0-1000000) (line 7)"),
                arguments(POOLS + "routes:\n  - split: [{ pool: v1, wieght: 1 }]\n",
                        "routes[0].split[0].wieght: unknown key, did you mean \"weight\"? (line 7)"),
                arguments(POOLS + "routes:\n  - split: [{ pool: v1, weight: 1 }, { pool: v1, weight: 2 }]\n",
                        "routes[0].split[1].pool: pool \"v1\" is already in this split (expected: each pool once) (line 7)"),
                arguments(POOLS + "routes:\n  - split: [{ pool: v1, weight: 0 }]\n",
                        "routes[0].split: every weight is 0 (expected: at least one share above 0) (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, split: [{ pool: v2, weight: 1 }] }\n",
                        "routes[0].split: a route has one action, but this one also has `pool` (expected: one of"
                                + " pool, split, redirect or respond) (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, split-by: client-address }\n",
                        "routes[0].split-by: needs a `split` in the same route (the pools it keeps a client on) (line 7)"),
                arguments(POOLS + "routes:\n  - split: [{ pool: v1, weight: 1 }]\n    split-by: header\n",
                        "routes[0].split-by: not a valid header name in \"header\" (expected: header:NAME, NAME an"
                                + " RFC 9110 token) (line 8)"),
                arguments(POOLS + "routes:\n  - { pool: v1, mirror: { percent: 5 } }\n",
                        "routes[0].mirror.pool: required (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, mirror: { pool: v3 } }\n",
                        "routes[0].mirror.pool: no pool named \"v3\", did you mean \"v1\"? (expected: one of v1, v2) (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, mirror: { pool: v1 } }\n",
                        "routes[0].mirror.pool: pool \"v1\" already serves this route (expected: a shadow pool of its own) (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, mirror: { pool: v2, percent: 101 } }\n",
                        "routes[0].mirror.percent: out of range: 101 (expected: 0-100) (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, mirror: { pool: v2, max-body-bytes: -1 } }\n",
                        "routes[0].mirror.max-body-bytes: out of range: -1 (expected: >= 0) (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, mirror: { pool: v2, sample: 1 } }\n",
                        "routes[0].mirror.sample: unknown key (line 7)"),
                arguments(POOLS + "routes:\n  - { respond: {}, mirror: { pool: v2 } }\n",
                        "routes[0].mirror: only a route to a pool or a split mirrors its requests (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, hedge: { delay: 0ms } }\n",
                        "routes[0].hedge.delay: not a delay: \"0ms\" (expected: a duration above 0 like 50ms, or p95) (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, hedge: { delay: soon } }\n",
                        "routes[0].hedge.delay: not a delay: \"soon\" (expected: a duration above 0 like 50ms, or p95) (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, hedge: { min-delay: 0ms } }\n",
                        "routes[0].hedge.min-delay: out of range: 0ms (expected: > 0) (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, hedge: { methods: [] } }\n",
                        "routes[0].hedge.methods: no methods (expected: a list like [GET, HEAD]) (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, hedge: { methods: [\"G T\"] } }\n",
                        "routes[0].hedge.methods[0]: not a valid method: \"G T\" (line 7)"),
                arguments(POOLS + "routes:\n  - { pool: v1, hedge: { after: 5ms } }\n",
                        "routes[0].hedge.after: unknown key (line 7)"),
                arguments(POOLS + "routes:\n  - { respond: {}, hedge: {} }\n",
                        "routes[0].hedge: only a route to a pool or a split hedges its requests (line 7)"),
                arguments(POOLS + "routes:\n  - split: [{ pool: v1, weight: 1 }]\n    split-by: user\n",
                        "routes[0].split-by: unknown key source \"user\" (expected: header:NAME, cookie:NAME, path or"
                                + " client-address) (line 8)"));
    }

    @ParameterizedTest
    @MethodSource("errors")
    void reportsEachProblemWithItsFieldPathAndLine(String yaml, String expected) {
        List<String> problems = problems(yaml);
        assertTrue(problems.contains(expected), yaml + "\n" + problems);
    }
}
