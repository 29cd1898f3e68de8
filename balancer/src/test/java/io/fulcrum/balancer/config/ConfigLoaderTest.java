package io.fulcrum.balancer.config;

import static io.fulcrum.balancer.config.ConfigTexts.ONE_BACKEND;
import static io.fulcrum.balancer.config.ConfigTexts.parse;
import static io.fulcrum.balancer.config.ConfigTexts.problems;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {
    private static Path repoFile(String name) {
        Path p = Path.of("config", name);
        return Files.exists(p) ? p : Path.of("..", "config", name);
    }

    // ---- valid configs -----------------------------------------------------------------------

    @Test
    void healthChecksCanBeTurnedOff() throws ConfigException {
        assertTrue(parse(ONE_BACKEND).health().enabled());
        assertFalse(parse("health: { enabled: false }\n" + ONE_BACKEND).health().enabled());
        assertEquals(List.of("health.enabled: expected true or false, got \"nope\" (line 1)"),
                problems("health: { enabled: nope }\n" + ONE_BACKEND));
    }

    @Test
    void appliesEveryDefaultWhenOnlyBackendsAreGiven() throws ConfigException {
        BalancerConfig c = parse(ONE_BACKEND);
        assertEquals(new ListenConfig("0.0.0.0", 8080), c.listen());
        assertEquals(new ListenConfig("127.0.0.1", 8081), c.admin());
        assertEquals("default", c.region());
        assertEquals(new RoutingConfig(RoutingConfig.Policy.LEAST_BUSY, null,
                new SpilloverConfig(0.8, List.of()), Duration.ofSeconds(10)), c.routing());
        assertEquals(List.of(new BackendConfig("a", "127.0.0.1", 9001, "default", 1, 512)), c.backends());
        assertEquals(new HealthConfig("/health", Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3), c.health());
        assertEquals(new OutlierConfig(5, Duration.ofSeconds(10), Duration.ofSeconds(300), 50), c.outlier());
        assertEquals(new RetryConfig(2, 20, 65536, null), c.retry());
        assertEquals(new TimeoutsConfig(Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(60),
                Duration.ofSeconds(30), Duration.ofSeconds(30)), c.timeouts());
        assertEquals(new LimitsConfig(16384, 8192, 10_485_760L, 10_000), c.limits());
        assertEquals("stdout", c.accessLog());
        assertNull(c.backendHeader());
    }

    @Test
    void emptyAndNullSectionsMeanDefaults() throws ConfigException {
        BalancerConfig c = parse(ONE_BACKEND + "listen: {}\nhealth:\nrouting: {spillover: ~}\n");
        assertEquals(new ListenConfig("0.0.0.0", 8080), c.listen());
        assertEquals("/health", c.health().path());
        assertEquals(0.8, c.routing().spillover().saturation());
    }

    @Test
    void readsEveryFieldOfAFullConfig() throws ConfigException {
        BalancerConfig c = parse("""
                listen: { host: 127.0.0.1, port: 0 }
                admin: { host: "::1", port: 65535 }
                region: us-east
                routing:
                  policy: round-robin
                  region-header: X-Client-Region
                  spillover: { saturation: 1, order: [eu-west, ap-south] }
                  slow-start: 0s
                  least-busy: { exact-max: 8, choices: 3, error-weight: 2.5 }
                backends:
                  - { id: us-1, url: "http://10.0.0.1:9001/", region: us-east, weight: 3, max-in-flight: 100 }
                  - { id: eu-1, url: "http://backend.example", region: eu-west }
                  - { id: ap_1.x, url: "http://[::1]:9003", region: ap-south }
                health: { path: "/ready?full=1", interval: 500ms, timeout: 250ms, rise: 1, fall: 10 }
                outlier: { consecutive-failures: 1, base-ejection: 1m, max-ejection: 1h, max-ejected-percent: 0,
                           failure-rate: 0.5 }
                retry: { attempts: 10, budget-percent: 100, replay-body-bytes: 0, per-try-timeout: 5s }
                timeouts: { connect: 2s, response: 1m, client-idle: 2m, backend-idle: 45s, drain: 1h, queue: 0s }
                limits: { max-header-bytes: 1024, max-uri-bytes: 256, max-body-bytes: 10000000000, max-connections: 1,
                          max-queue: 0 }
                access-log: /var/log/fulcrum/access.log
                backend-header: X-Fulcrum-Backend
                trusted-edges: { networks: [10.0.0.0/8] }
                headers: { forwarded: set, request-id: any, trace-context: any }
                """);
        assertEquals(new ListenConfig("127.0.0.1", 0), c.listen());
        assertEquals(new ListenConfig("::1", 65535), c.admin());
        assertEquals("us-east", c.region());
        assertEquals(new RoutingConfig(RoutingConfig.Policy.ROUND_ROBIN, "X-Client-Region",
                new SpilloverConfig(1.0, List.of("eu-west", "ap-south")), Duration.ZERO, null,
                new LeastBusyConfig(8, 3, 2.5)), c.routing());
        assertEquals(List.of(
                new BackendConfig("us-1", "10.0.0.1", 9001, "us-east", 3, 100),
                new BackendConfig("eu-1", "backend.example", 80, "eu-west", 1, 512),
                new BackendConfig("ap_1.x", "::1", 9003, "ap-south", 1, 512)), c.backends());
        assertEquals("http://[::1]:9003", c.backends().get(2).url());
        assertEquals(new HealthConfig("/ready?full=1", Duration.ofMillis(500), Duration.ofMillis(250), 1, 10),
                c.health());
        assertEquals(new OutlierConfig(1, Duration.ofMinutes(1), Duration.ofHours(1), 0, OutlierConfig.DEFAULT_HOLD_DOWN,
                OutlierConfig.DEFAULT_MAX_HOLD_DOWN, 0.5), c.outlier());
        assertEquals(new RetryConfig(10, 100, 0, Duration.ofSeconds(5)), c.retry());
        assertEquals(new TimeoutsConfig(Duration.ofSeconds(2), Duration.ofMinutes(1), Duration.ofMinutes(2),
                Duration.ofSeconds(45), Duration.ofHours(1), TimeoutsConfig.DEFAULT_TUNNEL_IDLE,
                TimeoutsConfig.DEFAULT_REQUEST_HEAD, Duration.ZERO),
                c.timeouts());
        assertEquals(new LimitsConfig(1024, 256, 10_000_000_000L, 1, 0), c.limits());
        assertEquals("/var/log/fulcrum/access.log", c.accessLog());
        assertEquals("X-Fulcrum-Backend", c.backendHeader());
        assertEquals(new HeadersConfig(HeadersConfig.Forwarded.SET, HeadersConfig.From.ANY, HeadersConfig.From.ANY),
                c.headers());
    }

    @Test
    void withoutAHeadersSectionOnlyTrustedEdgesChooseIdsAndNoForwardedIsWritten() throws ConfigException {
        assertEquals(new HeadersConfig(HeadersConfig.Forwarded.DROP, HeadersConfig.From.EDGES,
                HeadersConfig.From.EDGES), parse(ONE_BACKEND).headers());
    }

    @Test
    void loadsTheLocalClusterConfig() throws ConfigException {
        BalancerConfig c = ConfigLoader.load(repoFile("balancer.yaml"));
        assertEquals(new ListenConfig("127.0.0.1", 8080), c.listen(), "the local cluster stays on this machine");
        assertEquals(new ListenConfig("127.0.0.1", 8081), c.admin());
        assertEquals("X-Fulcrum-Backend", c.backendHeader(), "the timeline page names the node from it");
        assertEquals("us-east", c.region());
        assertEquals(List.of(
                new BackendConfig("us-1", "127.0.0.1", 9001, "us-east", 1, 512),
                new BackendConfig("us-2", "127.0.0.1", 9002, "us-east", 1, 512),
                new BackendConfig("eu-1", "127.0.0.1", 9003, "eu-west", 1, 512)), c.backends());
        assertEquals("/health", c.health().path());
        assertEquals(List.of("eu-west"), c.routing().spillover().order());
    }

    @Test
    void loadsTheReferenceConfigWithEveryKey() throws ConfigException {
        BalancerConfig c = ConfigLoader.load(repoFile("balancer-reference.yaml"));
        assertEquals(3, c.backends().size());
        assertEquals("X-Client-Region", c.routing().regionHeader());
        assertEquals(Duration.ofSeconds(10), c.retry().perTryTimeout());
        assertEquals("X-Fulcrum-Backend", c.backendHeader());
    }

    @Test
    void backendRegionDefaultsToTheBalancersRegion() throws ConfigException {
        BalancerConfig c = parse("region: eu-west\n" + ONE_BACKEND);
        assertEquals("eu-west", c.backends().get(0).region());
    }

    @Test
    void plainScalarsAreTakenAsWrittenForStringFields() throws ConfigException {
        // YAML 1.1 would read `no` as false and `1.10` as 1.1; region names keep their text.
        BalancerConfig c = parse("region: no\nbackends: [{id: 1.10, url: \"http://h\", region: no}]\n");
        assertEquals("no", c.region());
        assertEquals("1.10", c.backends().get(0).id());
    }

    @ParameterizedTest
    @CsvSource({"least-busy, LEAST_BUSY", "round-robin, ROUND_ROBIN", "random, RANDOM"})
    void readsEachPolicy(String yaml, RoutingConfig.Policy policy) throws ConfigException {
        assertEquals(policy, parse(ONE_BACKEND + "routing: {policy: " + yaml + "}\n").routing().policy());
    }

    @ParameterizedTest
    @CsvSource({"250ms, PT0.25S", "2s, PT2S", "1m, PT1M", "1h, PT1H", "0s, PT0S", "90s, PT1M30S"})
    void readsDurations(String yaml, Duration expected) throws ConfigException {
        assertEquals(expected, parse(ONE_BACKEND + "routing: {slow-start: " + yaml + "}\n").routing().slowStart());
    }

    @ParameterizedTest
    @CsvSource({
        "http://h, h, 80",
        "http://h/, h, 80",
        "HTTP://Example.COM:8080, Example.COM, 8080",
        "http://10.1.2.3:1, 10.1.2.3, 1",
        "http://[::1]:65535, ::1, 65535",
        "http://[2001:db8::7], 2001:db8::7, 80",
        "http://backend-1.internal., backend-1.internal., 80",
    })
    void acceptsHttpUrls(String url, String host, int port) throws ConfigException {
        BackendConfig b = parse("backends: [{id: a, url: \"" + url + "\"}]\n").backends().get(0);
        assertEquals(host, b.host());
        assertEquals(port, b.port());
    }

    @ParameterizedTest
    @ValueSource(strings = {"stdout", "off", "/var/log/access.log", "logs/access.log"})
    void acceptsAccessLogTargets(String target) throws ConfigException {
        assertEquals(target, parse(ONE_BACKEND + "access-log: " + target + "\n").accessLog());
    }

    @Test
    void yamlFalseTurnsTheAccessLogOffInsteadOfNamingAFile() throws ConfigException {
        assertEquals("off", parse(ONE_BACKEND + "access-log: false\n").accessLog());
        assertEquals("./false", parse(ONE_BACKEND + "access-log: ./false\n").accessLog());
    }

    @Test
    void nullHeaderSettingsMeanOff() throws ConfigException {
        BalancerConfig c = parse(ONE_BACKEND + "backend-header: ~\nrouting: {region-header: null}\n");
        assertNull(c.backendHeader());
        assertNull(c.routing().regionHeader());
    }

    @Test
    void explicitNullPerTryTimeoutMeansNotSet() throws ConfigException {
        assertNull(parse(ONE_BACKEND + "retry: {per-try-timeout: null}\n").retry().perTryTimeout());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 65535})
    void acceptsPortsInRange(int port) throws ConfigException {
        BalancerConfig c = parse(ONE_BACKEND + "listen: {port: " + port + "}\nadmin: {port: " + port + "}\n");
        assertEquals(port, c.listen().port());
        assertEquals(port, c.admin().port());
    }

    // ---- one problem per case ------------------------------------------------------------------

    /**
     * A mistake below {@link #ONE_BACKEND}, so from line 2, in any section (the affinity and edge ones
     * included), and the one problem it is; {@code |} ends the YAML.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        // unknown keys at each level, with a hint when one is close
        "regoin: us | regoin: unknown key, did you mean \"region\"? (line 2)",
        "accesslog: off | accesslog: unknown key, did you mean \"access-log\"? (line 2)",
        "frobnicate: 1 | frobnicate: unknown key (line 2)",
        "listen: {hots: x} | listen.hots: unknown key, did you mean \"host\"? (line 2)",
        "admin: {bind: x} | admin.bind: unknown key (line 2)",
        "routing: {polcy: random} | routing.polcy: unknown key, did you mean \"policy\"? (line 2)",
        "routing: {spillover: {saturaton: 0.5}} | routing.spillover.saturaton: unknown key, did you mean \"saturation\"? (line 2)",
        "health: {pth: /x} | health.pth: unknown key, did you mean \"path\"? (line 2)",
        "outlier: {max-ejected-percnt: 5} | outlier.max-ejected-percnt: unknown key, did you mean \"max-ejected-percent\"? (line 2)",
        "retry: {attempt: 3} | retry.attempt: unknown key, did you mean \"attempts\"? (line 2)",
        "timeouts: {conect: 1s} | timeouts.conect: unknown key, did you mean \"connect\"? (line 2)",
        "limits: {maxHeaderBytes: 2048} | limits.maxHeaderBytes: unknown key, did you mean \"max-header-bytes\"? (line 2)",
        "<<: {region: x} | <<: merge keys are not supported (line 2)",
        // wrong types
        "listen: {port: abc} | listen.port: expected an integer, got \"abc\" (line 2)",
        "listen: {port: '8080'} | listen.port: expected an integer, got \"8080\" (line 2)",
        "listen: {port: 80.5} | listen.port: expected an integer, got 80.5 (line 2)",
        "listen: {port: 0x50} | listen.port: expected an integer, got 0x50 (line 2)",
        "listen: {port: 010} | listen.port: expected an integer, got 010 (line 2)",
        "listen: {port: } | listen.port: expected an integer, got nothing (null) (line 2)",
        "listen: [1] | listen: expected a mapping, got a list (line 2)",
        "health: /health | health: expected a mapping, got \"/health\" (line 2)",
        "region: [a] | region: expected a region name, got a list (line 2)",
        "region: '' | region: must not be empty (line 2)",
        "region: us east | region: not a valid region name: \"us east\" (expected: letters, digits, '.', '_' or '-') (line 2)",
        "routing: {spillover: {order: eu}} | routing.spillover.order: expected a list of region names, got \"eu\" (line 2)",
        "routing: {spillover: {saturation: high}} | routing.spillover.saturation: expected a number, got \"high\" (line 2)",
        "routing: {spillover: {saturation: .nan}} | routing.spillover.saturation: expected a number, got .nan (line 2)",
        "limits: {max-body-bytes: {a: 1}} | limits.max-body-bytes: expected an integer, got a mapping (line 2)",
        "timeouts: {drain: [1s]} | timeouts.drain: expected a duration like 250ms, 2s, 1m, got a list (line 2)",
        "[a]: 1 | (top level): keys must be plain names, got a list (line 2)",
        // ports
        "listen: {port: 65536} | listen.port: out of range: 65536 (expected: 0-65535) (line 2)",
        "listen: {port: -1} | listen.port: out of range: -1 (expected: 0-65535) (line 2)",
        "admin: {port: 100000} | admin.port: out of range: 100000 (expected: 0-65535) (line 2)",
        "listen: {host: 'not a host'} | listen.host: not a valid host name or address: \"not a host\" (line 2)",
        // routing
        "routing: {policy: lest-busy} | routing.policy: unknown policy \"lest-busy\", did you mean \"least-busy\"? (expected: least-busy, round-robin, random) (line 2)",
        "routing: {spillover: {saturation: 0}} | routing.spillover.saturation: out of range: 0 (expected: > 0 and <= 1) (line 2)",
        "routing: {spillover: {saturation: 1.5}} | routing.spillover.saturation: out of range: 1.5 (expected: > 0 and <= 1) (line 2)",
        "routing: {least-busy: {choices: 1}} | routing.least-busy.choices: out of range: 1 (expected: 2-64) (line 2)",
        "routing: {least-busy: {error-weight: -1}} | routing.least-busy.error-weight: out of range: -1 (expected: >= 0) (line 2)",
        "routing: {least-busy: {exact-mx: 3}} | routing.least-busy.exact-mx: unknown key, did you mean \"exact-max\"? (line 2)",
        "outlier: {failure-rate: 1.5} | outlier.failure-rate: out of range: 1.5 (expected: >= 0 and <= 1) (line 2)",
        "routing: {spillover: {order: [default, eu-wst]}} | routing.spillover.order[1]: no backend is in region \"eu-wst\" (line 2)",
        "routing: {spillover: {order: [default, default]}} | routing.spillover.order[1]: region \"default\" is listed twice (line 2)",
        "routing: {region-header: 'X Region'} | routing.region-header: not a valid header name: \"X Region\" (expected: an RFC 9110 token) (line 2)",
        "headers: {forwarded: append} | headers.forwarded: unknown value \"append\" (expected: drop, set) (line 2)",
        // durations
        "health: {interval: 2} | health.interval: \"2\" is not a duration like 250ms, 2s, 1m (line 2)",
        "health: {interval: 0s} | health.interval: out of range: 0s (expected: > 0) (line 2)",
        "health: {timeout: 0ms} | health.timeout: out of range: 0ms (expected: > 0) (line 2)",
        "retry: {per-try-timeout: 0s} | retry.per-try-timeout: out of range: 0s (expected: > 0) (line 2)",
        "timeouts: {client-idle: 0s} | timeouts.client-idle: out of range: 0s (expected: > 0) (line 2)",
        // health, outlier, retry
        "health: {path: health} | health.path: not a request path: \"health\" (expected: starting with / and without spaces or control characters) (line 2)",
        "health: {rise: 0} | health.rise: out of range: 0 (expected: >= 1) (line 2)",
        "health: {fall: 0} | health.fall: out of range: 0 (expected: >= 1) (line 2)",
        "outlier: {consecutive-failures: 0} | outlier.consecutive-failures: out of range: 0 (expected: >= 1) (line 2)",
        "outlier: {base-ejection: 1m, max-ejection: 30s} | outlier.max-ejection: max-ejection 30s is shorter than base-ejection 1m (expected: max-ejection >= base-ejection) (line 2)",
        "outlier: {base-ejection: 1h} | outlier.base-ejection: max-ejection 5m is shorter than base-ejection 1h (expected: max-ejection >= base-ejection) (line 2)",
        "outlier: {max-ejected-percent: 101} | outlier.max-ejected-percent: out of range: 101 (expected: 0-100) (line 2)",
        "retry: {attempts: 11} | retry.attempts: out of range: 11 (expected: 0-10) (line 2)",
        "retry: {attempts: -1} | retry.attempts: out of range: -1 (expected: 0-10) (line 2)",
        "retry: {budget-percent: 101} | retry.budget-percent: out of range: 101 (expected: 0-100) (line 2)",
        "retry: {replay-body-bytes: -1} | retry.replay-body-bytes: out of range: -1 (expected: >= 0) (line 2)",
        // limits
        "limits: {max-header-bytes: 1023} | limits.max-header-bytes: out of range: 1023 (expected: 1024-1048576) (line 2)",
        "limits: {max-header-bytes: 1048577} | limits.max-header-bytes: out of range: 1048577 (expected: 1024-1048576) (line 2)",
        "limits: {max-uri-bytes: 255} | limits.max-uri-bytes: out of range: 255 (expected: 256-1048576) (line 2)",
        "limits: {max-header-bytes: 4096, max-uri-bytes: 8192} | limits.max-uri-bytes: max-uri-bytes 8192 exceeds max-header-bytes 4096 (expected: 256-4096) (line 2)",
        "limits: {max-header-bytes: 4096} | limits.max-header-bytes: max-uri-bytes 8192 exceeds max-header-bytes 4096 (expected: 256-4096) (line 2)",
        "limits: {max-body-bytes: -1} | limits.max-body-bytes: out of range: -1 (expected: >= 0) (line 2)",
        "limits: {max-connections: 0} | limits.max-connections: out of range: 0 (expected: >= 1) (line 2)",
        "limits: {max-queue: -1} | limits.max-queue: out of range: -1 (expected: >= 0) (line 2)",
        // access log and backend header
        "access-log: \"a\\0b\" | access-log: not a valid file path: \"a\u0000b\" (expected: stdout, off or a file path) (line 2)",
        "access-log: '' | access-log: must not be empty (line 2)",
        "backend-header: 'X-Backend:' | backend-header: not a valid header name: \"X-Backend:\" (expected: an RFC 9110 token) (line 2)",
        // duplicate keys
        "listen: {port: 1, port: 2} | listen.port: duplicate key, first at line 2 (line 2)",
        // tags
        "region: !!str us | region: YAML tags are not allowed (found tag:yaml.org,2002:str) (line 2)",
        "listen: !custom {port: 1} | listen: YAML tags are not allowed (found !custom) (line 2)",
        "!!str region: us | region: YAML tags are not allowed (found tag:yaml.org,2002:str) (line 2)",
        // trusted-edges
        "trusted-edges: { forwarded-for: true } | trusted-edges.networks: required (expected: a list of networks such as [10.0.0.0/8]) (line 2)",
        "trusted-edges: { networks: [] } | trusted-edges.networks: at least one network is required (line 2)",
        "'trusted-edges:\n  networks: 10.0.0.0/8' | trusted-edges.networks: expected a list of networks, got \"10.0.0.0/8\" (line 3)",
        "'trusted-edges:\n  networks: [10.0.0.0/8, 10.0.0.0/33]' | trusted-edges.networks[1]: prefix length of 10.0.0.0/33 (expected: 0-32) (line 3)",
        "trusted-edges: { networks: [10.0.0.0/8], forwarded-for: yes please } | trusted-edges.forwarded-for: expected true or false, got \"yes please\" (line 2)",
        "trusted-edges: { networks: [10.0.0.0/8], proxy-protocol: v3 } | trusted-edges.proxy-protocol: unknown value \"v3\", did you mean \"v1\"? (expected: off, v1, v2, any) (line 2)",
        "trusted-edges: { networks: [10.0.0.0/8], forwarded-for: false } | trusted-edges.forwarded-for: false with proxy-protocol off: no peer's word would be taken (expected: forwarded-for true, a proxy-protocol, or no trusted-edges) (line 2)",
        "trusted-edges: [10.0.0.0/8] | trusted-edges: expected a mapping, got a list (line 2)",
        // rate-limit
        "rate-limit: { burst: 5 } | rate-limit.rate: required (expected: a rate such as 100/s, 600/m or 1000/h) (line 2)",
        "rate-limit: { rate: 100 } | rate-limit.rate: \"100\" is not a rate such as 100/s, 600/m or 1000/h (line 2)",
        "'rate-limit:\n  rate: 5/d' | rate-limit.rate: \"5/d\" is not a rate such as 100/s, 600/m or 1000/h (line 3)",
        "rate-limit: { rate: 0/s } | rate-limit.rate: out of range: 0/s (expected: more than 0 and at most 1000000000 per unit) (line 2)",
        "rate-limit: { rate: 10/s, burst: 0 } | rate-limit.burst: out of range: 0 (expected: 1-1000000000) (line 2)",
        "rate-limit: { rate: 10/s, burst: 1.5 } | rate-limit.burst: expected an integer, got 1.5 (line 2)",
        "rate-limit: { rate: 10/s, key: client-adress } | rate-limit.key: unknown key \"client-adress\", did you mean \"client-address\"? (expected: client-address or header:NAME) (line 2)",
        "rate-limit: { rate: 10/s, key: \"header:X Api\" } | rate-limit.key: not a valid header name: \"X Api\" (expected: header:NAME with an RFC 9110 token as NAME) (line 2)",
        "rate-limit: { rate: 10/s, max-keys: 0 } | rate-limit.max-keys: out of range: 0 (expected: 1-10000000) (line 2)",
        "rate-limit: { rate: 10/s, max-keys: 20000000 } | rate-limit.max-keys: out of range: 20000000 (expected: 1-10000000) (line 2)",
        "rate-limit: 100/s | rate-limit: expected a mapping, got \"100/s\" (line 2)",
        "rate-limit: { rate: 10/s, store: memcached } | rate-limit.store: unknown value \"memcached\" (expected: local, redis) (line 2)",
        "rate-limit: { rate: 10/s, store: redis } | rate-limit.store: redis needs the top-level redis section, and there is none (expected: redis: { url: redis://HOST:PORT }, or store: local) (line 2)",
        "'rate-limit: { rate: 10/s, store: redis }\nredis: { timeout: 1s }' | redis.url: required (expected: redis://[[user:]password@]host[:port][/database] or rediss://...) (line 3)",
        "redis: { url: \"http://127.0.0.1:6379\" } | redis.url: \"http://127.0.0.1:6379\" is not a Redis URL (expected: redis://[[user:]password@]host[:port][/database] or rediss://...) (line 2)",
        "redis: { url: \"redis://127.0.0.1:6379\", timeout: 0s } | redis.timeout: out of range: 0s (expected: > 0) (line 2)",
        "redis: { url: \"redis://127.0.0.1:6379\", fail-open: maybe } | redis.fail-open: expected true or false, got \"maybe\" (line 2)",
        // affinity
        "affinity: 5 | affinity: expected a mapping, got 5 (line 2)",
        "affinity: {} | affinity: expected cookie or hash, e.g. { cookie: { name: FULCRUM_AFFINITY } } or { hash: { on: header:X-User-Id } } (line 2)",
        "affinity: { sticky: {} } | affinity.sticky: unknown key (line 2)",
        "affinity: { cookie: {}, hash: { on: path } } | affinity.hash: set either affinity.cookie or affinity.hash, not both (line 2)",
        "affinity: { cookie: { nme: X } } | affinity.cookie.nme: unknown key, did you mean \"name\"? (line 2)",
        "affinity: { cookie: { name: \"a b\" } } | affinity.cookie.name: not a valid header name: \"a b\" (expected: an RFC 9110 token) (line 2)",
        "affinity: { cookie: { secret: short } } | affinity.cookie.secret: too short (expected: at least 16 characters) (line 2)",
        "affinity: { cookie: { secret: \"0123456789abcdef\", secret-file: /x } } | affinity.cookie.secret-file: set either affinity.cookie.secret or affinity.cookie.secret-file, not both (line 2)",
        "affinity: { cookie: { secret-file: /no/such/file } } | affinity.cookie.secret-file: cannot read \"/no/such/file\": /no/such/file (line 2)",
        "affinity: { cookie: { max-age: 0s } } | affinity.cookie.max-age: out of range: 0s (expected: > 0) (line 2)",
        "affinity: { cookie: [] } | affinity.cookie: expected a mapping, got a list (line 2)",
        "affinity: { hash: {} } | affinity.hash.on: required (expected: header:NAME, cookie:NAME, path or client-address) (line 2)",
        "affinity: { hash: { on: url } } | affinity.hash.on: unknown key source \"url\" (expected: header:NAME, cookie:NAME, path or client-address) (line 2)",
        "affinity: { hash: { on: pth } } | affinity.hash.on: unknown key source \"pth\", did you mean \"path\"? (expected: header:NAME, cookie:NAME, path or client-address) (line 2)",
        "affinity: { hash: { on: \"header:\" } } | affinity.hash.on: not a valid header name in \"header:\" (expected: header:NAME, NAME an RFC 9110 token) (line 2)",
        "affinity: { hash: { on: header } } | affinity.hash.on: not a valid header name in \"header\" (expected: header:NAME, NAME an RFC 9110 token) (line 2)",
        "affinity: { hash: { on: \"path:x\" } } | affinity.hash.on: \"path\" takes no name, got \"path:x\" (expected: header:NAME, cookie:NAME, path or client-address) (line 2)",
        "affinity: { hash: { on: path, balance-factor: 0.9 } } | affinity.hash.balance-factor: out of range: 0.9 (expected: >= 1 and <= 100) (line 2)",
        "affinity: { hash: { on: path, balance-factor: lots } } | affinity.hash.balance-factor: expected a number, got \"lots\" (line 2)",
    })
    void reportsOneLineNamingPathAndLine(String line, String expected) {
        assertEquals(List.of(expected), problems(ONE_BACKEND + line + "\n"));
    }

    /** A whole file (quoted where it has several lines) and the one problem it is. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "backends: [{id: a, url: \"http://h\", maxInFlight: 3}] | backends[0].maxInFlight: unknown key, did you mean \"max-in-flight\"? (line 1)",
        "backends: {id: a} | backends: expected a list of backends, got a mapping (line 1)",
        "backends: [x] | backends[0]: expected a mapping with id and url, got \"x\" (line 1)",
        "backends: [{id: [a], url: \"http://h\"}] | backends[0].id: expected a string, got a list (line 1)",
        "'- a\n- b' | (top level): expected a mapping, got a list (line 1)",
        // backends
        "region: x | backends: required (expected: a list of at least one backend) (line 1)",
        "backends: [] | backends: at least one backend is required (line 1)",
        "backends: | backends: expected a list of backends, got nothing (null) (line 1)",
        "backends: [{url: \"http://h\"}] | backends[0].id: required (line 1)",
        "backends: [{id: a}] | backends[0].url: required (expected: http://host[:port] or https://host[:port]) (line 1)",
        "backends: [{id: 'a b', url: \"http://h\"}] | backends[0].id: not a valid id: \"a b\" (expected: letters, digits, '.', '_' or '-') (line 1)",
        "'backends:\n  - {id: a, url: \"http://h:1\"}\n  - {id: b, url: \"http://h:2\"}\n  - {id: a, url: \"http://h:3\"}' | backends[2].id: duplicate id \"a\", already used by backends[0] (line 4)",
        "backends: [{id: a, url: \"http://h\", weight: 0}] | backends[0].weight: out of range: 0 (expected: >= 1) (line 1)",
        "backends: [{id: a, url: \"http://h\", max-in-flight: 0}] | backends[0].max-in-flight: out of range: 0 (expected: >= 1) (line 1)",
        "backends: [{id: a, url: \"http://h\", max-in-flight: 99999999999}] | backends[0].max-in-flight: out of range: 99999999999 (expected: >= 1) (line 1)",
        "'backends: [{id: a, url: \"http://h\", region: eu-west}]\nrouting: {spillover: {order: [eu-wset]}}' | routing.spillover.order[0]: no backend is in region \"eu-wset\", did you mean \"eu-west\"? (line 2)",
        "'backends: [{id: a, url: \"http://127.0.0.1:9001\"}]\nrouting:\n  region-header: X-Client-Region' | routing.region-header: believed only from trusted edges, and there are none (expected: a trusted-edges section naming the proxies that set it, or no region-header) (line 3)",
        "'backends: [{id: a, url: \"http://127.0.0.1:9001\"}]\nregion: a\nregion: b' | region: duplicate key, first at line 2 (line 3)",
        "backends: [{id: a, id: b, url: \"http://h\"}] | backends[0].id: duplicate key, first at line 1 (line 1)",
        "backends: !!seq [{id: a, url: \"http://h\"}] | backends: YAML tags are not allowed (found tag:yaml.org,2002:seq) (line 1)",
        // protocol to the backends
        "'backends: [{id: a, url: \"http://h\"}]\nprotocol: h3' | protocol: unknown protocol \"h3\", did you mean \"h2\"? (expected: http1, h2c, h2, auto) (line 2)",
        "'backends: [{id: a, url: \"http://h\"}]\nprotocol: h2' | protocol: h2 is HTTP/2 over TLS, but backend a is http://h:80 (use h2c for HTTP/2 in clear text, or an https:// URL) (line 2)",
        "'backends: [{id: a, url: \"https://h\"}]\nprotocol: h2c' | protocol: h2c is HTTP/2 in clear text, but backend a is https://h:443 (use h2 or auto for HTTP/2 over TLS) (line 2)",
        "'backends: [{id: a, url: \"http://h\"}]\nhealth: {type: grpc}' | protocol: a grpc health check needs HTTP/2 backends (protocol h2c or h2), not http1 (line 1)",
        "'backends: [{id: a, url: \"http://h\"}]\npools:\n  p:\n    protocol: h2\n    backends: [{id: b, url: \"http://g\"}]' | pools.p.protocol: h2 is HTTP/2 over TLS, but backend b is http://g:80 (use h2c for HTTP/2 in clear text, or an https:// URL) (line 4)",
    })
    void reportsOneLineNamingPathAndLineOfAWholeFile(String yaml, String expected) {
        assertEquals(List.of(expected), problems(yaml + "\n"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2", "1.5s", "-1s", "+1s", "2 s", "2sec", "1d", "s", "1S", "1e3ms", "0x10s",
        "9999999999999999h", "2s5"})
    void rejectsMalformedDurations(String text) {
        assertEquals(List.of("timeouts.connect: \"" + text + "\" is not a duration like 250ms, 2s, 1m (line 2)"),
                problems(ONE_BACKEND + "timeouts: {connect: \"" + text + "\"}\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ftp://h | not an http URL: \"ftp://h\" (expected: http://host[:port] or https://host[:port])",
        "h:80 | not an http URL: \"h:80\" (expected: http://host[:port] or https://host[:port])",
        "http://h/api | a backend URL has no path: \"http://h/api\" (expected: http://host[:port] or https://host[:port])",
        "http://h?x=1 | a backend URL has no query: \"http://h?x=1\" (expected: http://host[:port] or https://host[:port])",
        "http://h#top | a backend URL has no fragment: \"http://h#top\" (expected: http://host[:port] or https://host[:port])",
        "http://user@h | a backend URL has no user info: \"http://user@h\" (expected: http://host[:port] or https://host[:port])",
        "http://:80 | a backend URL needs a host: \"http://:80\" (expected: http://host[:port] or https://host[:port])",
        "http:// | a backend URL needs a host: \"http://\" (expected: http://host[:port] or https://host[:port])",
        "http://h:0 | port: 0 in \"http://h:0\" (expected: 1-65535)",
        "http://h:65536 | port: 65536 in \"http://h:65536\" (expected: 1-65535)",
        "http://h:x | not a valid port: \"x\" in \"http://h:x\" (expected: 1-65535)",
        "http://h: | not a valid port: \"\" in \"http://h:\" (expected: 1-65535)",
        "http://h_b | not a valid host name or address: \"h_b\" in \"http://h_b\"",
        "http://999.1.1.1 | not a valid host name or address: \"999.1.1.1\" in \"http://999.1.1.1\"",
        "http://-h | not a valid host name or address: \"-h\" in \"http://-h\"",
        "http://[::1 | not an http URL: \"http://[::1\" (expected: http://host[:port] or https://host[:port])",
        "http://[zz::1]:80 | not a valid IPv6 address: \"zz::1\" in \"http://[zz::1]:80\"",
        "http://[1:2:3:4:5:6:7:8:9] | not a valid IPv6 address: \"1:2:3:4:5:6:7:8:9\" in \"http://[1:2:3:4:5:6:7:8:9]\"",
    })
    void rejectsUrlsThatAreNotPlainHttpOrigins(String url, String message) {
        assertEquals(List.of("backends[0].url: " + message + " (line 2)"),
                problems("backends:\n  - {id: a, url: \"" + url + "\"}\n"));
    }

    @Test
    void rejectsAUrlThatIsNotAString() {
        assertEquals(List.of("backends[0].url: expected a URL, got a mapping (line 1)"),
                problems("backends: [{id: a, url: {host: h}}]\n"));
    }

    // ---- several problems ----------------------------------------------------------------------

    @Test
    void reportsEveryProblemInFileOrderWithItsLine() {
        List<String> problems = problems("""
                listen:
                  port: 70000
                routing:
                  polcy: random
                  spillover:
                    order: [mars]
                backends:
                  - id: us-1
                    url: "http://127.0.0.1:9001"
                  - id: us-1
                    url: "https://127.0.0.1:9002"
                  - id: eu-1
                    url: "http://127.0.0.1:9003/api"
                    weight: heavy
                health:
                  interval: 2
                timeouts: { connect: 1.5s, response: 30s }
                unknown-section: {}
                """);
        assertEquals(List.of(
                "listen.port: out of range: 70000 (expected: 0-65535) (line 2)",
                "routing.polcy: unknown key, did you mean \"policy\"? (line 4)",
                "routing.spillover.order[0]: no backend is in region \"mars\" (line 6)",
                "backends[1].id: duplicate id \"us-1\", already used by backends[0] (line 10)",
                "backends[2].url: a backend URL has no path: \"http://127.0.0.1:9003/api\" "
                        + "(expected: http://host[:port] or https://host[:port]) (line 13)",
                "backends[2].weight: expected an integer, got \"heavy\" (line 14)",
                "health.interval: \"2\" is not a duration like 250ms, 2s, 1m (line 16)",
                "timeouts.connect: \"1.5s\" is not a duration like 250ms, 2s, 1m (line 17)",
                "unknown-section: unknown key (line 18)"), problems);
    }

    @Test
    void exceptionMessageHasOneLinePerProblem() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse(ONE_BACKEND + "listen: {port: -1}\nadmin: {port: -2}\n"));
        assertEquals(2, e.problems().size());
        assertEquals(String.join(System.lineSeparator(), e.problems()), e.getMessage());
    }

    // ---- whole-file problems -------------------------------------------------------------------

    @Test
    void reportsYamlSyntaxErrorsWithTheSourceAndLine() {
        List<String> problems = problems(ONE_BACKEND + "listen: {port: 1\nadmin: x\n");
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).startsWith("test.yaml: not valid YAML: "), problems.get(0));
        assertTrue(problems.get(0).matches(".*\\(line \\d+\\)$"), problems.get(0));
    }

    @Test
    void rejectsJavaClassTagsBeforeMapping() {
        List<String> problems = problems("backends: [!!java.lang.Object {id: a, url: \"http://h\"}]\n");
        assertEquals(List.of("test.yaml: not valid YAML: Global tag is not allowed: tag:yaml.org,2002:java.lang.Object (line 1)"),
                problems);
    }

    @Test
    void rejectsSeveralDocuments() {
        List<String> problems = problems(ONE_BACKEND + "---\n" + ONE_BACKEND);
        assertEquals(1, problems.size());
        assertTrue(problems.get(0).startsWith("test.yaml: not valid YAML: "), problems.get(0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "# only a comment\n", "---\n"})
    void rejectsAnEmptyFile(String yaml) {
        List<String> problems = problems(yaml);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("test.yaml: "), problems.get(0));
    }

    @Test
    void refusesAliasBombs() {
        StringBuilder yaml = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (char c = 'b'; c <= 'k'; c++) {
            String prev = String.valueOf((char) (c - 1));
            yaml.append(c).append(": &").append(c).append(" [*").append(prev).append(", *").append(prev)
                    .append(", *").append(prev).append(", *").append(prev).append(", *").append(prev).append("]\n");
        }
        List<String> problems = problems(yaml + ONE_BACKEND);
        // Either the parser refuses the aliases or the keys are unknown; it must not expand them.
        assertTrue(problems.stream().allMatch(p -> p.contains("not valid YAML") || p.contains("unknown key")), problems.toString());
    }

    @Test
    void reportsAFileThatCannotBeRead(@TempDir Path dir) {
        Path missing = dir.resolve("missing.yaml");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing));
        assertEquals(1, e.problems().size());
        assertTrue(e.problems().get(0).startsWith(missing + ": cannot read"), e.problems().get(0));
    }

    @Test
    void loadsAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("b.yaml");
        Files.writeString(file, ONE_BACKEND);
        assertEquals("a", ConfigLoader.load(file).backends().get(0).id());
    }
}
