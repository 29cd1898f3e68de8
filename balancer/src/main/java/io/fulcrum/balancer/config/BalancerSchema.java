package io.fulcrum.balancer.config;

import io.fulcrum.config.Field.Reload;
import io.fulcrum.config.FieldTable;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Every key of {@code balancer.yaml}, declared once: type, default, range, whether a reload applies
 * it live or it needs a restart, and a one-line description. {@link ConfigLoader} checks keys (and
 * reads the plain values) through these tables, {@code ConfigReloader.restartNeeded} takes the
 * settings that need a restart from them, and {@code config/balancer.schema.json} is generated from
 * them ({@link io.fulcrum.config.JsonSchemas}). Cross-field rules stay in the loader.
 *
 * <p>Immutable and thread-safe.
 */
public final class BalancerSchema {
    private static final String NETWORKS = "a network such as 10.0.0.0/8 or fd00::/8";
    /** Whose word {@code headers.request-id} and {@code headers.trace-context} take. */
    private static final List<String> FROM = yamlNames(HeadersConfig.From.values(), HeadersConfig.From::yamlName);

    /** The traffic listener, also {@code tls.listen}. */
    static final FieldTable LISTEN = FieldTable.builder("A listening address")
            .reload(Reload.RESTART)
            .string("host", "0.0.0.0", "Address to bind (a host name or IP address)")
            .integer("port", 8080, 0, 65535, "TCP port; 0 binds an ephemeral port")
            .build();

    static final FieldTable ADMIN = FieldTable.builder("Health, readiness, metrics, backend status and reload")
            .reload(Reload.RESTART)
            .string("host", "127.0.0.1", "Address to bind")
            .integer("port", 8081, 0, 65535, "TCP port; 0 binds an ephemeral port")
            .reload(Reload.LIVE)
            .custom("token", null, obj("type", "string", "minLength", 16),
                    "Bearer token for drain, enable and reload (at least 16 characters); not with token-file")
            .custom("token-file", null, obj("type", "string", "minLength", 1),
                    "A file holding the admin token; not with token")
            .build();

    static final FieldTable SPILLOVER = FieldTable.builder("When and where requests leave the local region")
            .custom("saturation", 0.8, obj("type", "number", "exclusiveMinimum", 0, "maximum", 1),
                    "A backend is busy at this fraction of its max-in-flight, in (0, 1]")
            .custom("order", List.of(), obj("type", "array", "items", nameSchema()),
                    "Regions to spill to, in order (empty: every other region)")
            .build();

    static final FieldTable LEAST_BUSY = FieldTable.builder("The least-busy policy's choice")
            .integer("exact-max", LeastBusyConfig.DEFAULT.exactMax(), 0, 4096,
                    "Pools of at most this many candidates are scanned whole for the cheapest backend")
            .integer("choices", LeastBusyConfig.DEFAULT.choices(), 2, 64,
                    "Candidates drawn at random and compared in a larger pool")
            .custom("error-weight", LeastBusyConfig.DEFAULT.errorWeight(), obj("type", "number", "minimum", 0),
                    "A backend's cost is multiplied by 1 + error-weight x its recent failure rate; 0: failures are"
                            + " left out")
            .build();

    /** Top-level routing; a pool's routing takes {@link #POOL_ROUTING}. */
    static final FieldTable ROUTING = FieldTable.builder("How a backend is picked")
            .oneOf("policy", RoutingConfig.DEFAULT.policy().yamlName(),
                    yamlNames(RoutingConfig.Policy.values(), RoutingConfig.Policy::yamlName), "Selection policy")
            .custom("region-header", null, headerSchema(),
                    "A request header overriding `region`, believed from trusted-edges only (default: none)")
            .section("spillover", SPILLOVER, "Spillover to other regions")
            .duration("slow-start", RoutingConfig.DEFAULT.slowStart(), false,
                    "Longest warm-up of a backend that comes back; 0s disables")
            .section("least-busy", LEAST_BUSY, "How least-busy compares backends")
            .build();
    static final FieldTable POOL_ROUTING = ROUTING.only("A pool's routing (region-header belongs to the listener)",
            List.of("policy", "spillover", "slow-start", "least-busy"));

    static final FieldTable BACKEND = backendLoad(FieldTable.builder("One backend")
            .custom("id", null, nameSchema(), "Unique across all pools: letters, digits, '.', '_' or '-' (required)")
            .custom("url", null, obj("type", "string", "pattern", "^https?://"),
                    "http://host[:port] or https://host[:port], no path or query (required)")
            .name("region", null, "The backend's region (default: the top-level region)"),
            "Relative share of requests", "Requests in progress at once")
            .build();

    static final FieldTable HEALTH = FieldTable.builder("Active health checks")
            .reload(Reload.RESTART)
            .bool("enabled", HealthConfig.DEFAULT.enabled(),
                    "false: no active checks; backends stay up unless outlier ejection acts")
            .string("path", HealthConfig.DEFAULT.path(), "Request path, starting with /")
            .duration("interval", HealthConfig.DEFAULT.interval(), true, "Time between checks (> 0)")
            .duration("timeout", HealthConfig.DEFAULT.timeout(), true, "Wait for a check's answer (> 0)")
            .positiveInteger("rise", HealthConfig.DEFAULT.rise(), "Successes before a down backend is up again")
            .positiveInteger("fall", HealthConfig.DEFAULT.fall(), "Failures before an up backend is down")
            .oneOf("type", "http", List.of("http", "grpc"),
                    "http (GET path, 2xx is up; over HTTP/2 for h2c and h2 pools) or grpc"
                            + " (grpc.health.v1.Health/Check, SERVING is up; HTTP/2 pools)")
            .custom("grpc-service", "", obj("type", "string"), "The service a grpc check asks about (\"\": the whole server)")
            .build();

    static final FieldTable OUTLIER = FieldTable.builder("Passive outlier ejection")
            .reload(Reload.RESTART)
            .positiveInteger("consecutive-failures", OutlierConfig.DEFAULT.consecutiveFailures(),
                    "5xx or connect/reset failures in a row that eject a backend")
            .duration("base-ejection", OutlierConfig.DEFAULT.baseEjection(), false,
                    "First ejection; grows with each repeat")
            .duration("max-ejection", OutlierConfig.DEFAULT.maxEjection(), false,
                    "Cap on one ejection, >= base-ejection")
            .integer("max-ejected-percent", OutlierConfig.DEFAULT.maxEjectedPercent(), 0, 100,
                    "Share of a pool that may be ejected at once")
            .duration("hold-down", OutlierConfig.DEFAULT.holdDown(), false,
                    "A connect failure keeps the backend out this long, doubling per failure in a row; 0s: off")
            .duration("max-hold-down", OutlierConfig.DEFAULT.maxHoldDown(), false,
                    "Cap on one hold-down, >= hold-down")
            .custom("failure-rate", OutlierConfig.DEFAULT.failureRate(), obj("type", "number", "minimum", 0, "maximum", 1),
                    "Below this recent failure rate, a run of failures ejects only when the rate makes it improbable")
            .build();

    static final FieldTable RETRY = FieldTable.builder("Retries")
            .integer("attempts", RetryConfig.DEFAULT.attempts(), 0, 10,
                    "Retries after a timeout, 502/503/504 or malformed answer; 0 turns all off")
            .integer("budget-percent", RetryConfig.DEFAULT.budgetPercent(), 0, 100,
                    "In a brown-out, retries in progress stay within this share of the requests in progress")
            .integer("replay-body-bytes", RetryConfig.DEFAULT.replayBodyBytes(), 0, Integer.MAX_VALUE,
                    "Bodies up to this size are kept for replay")
            .duration("per-try-timeout", null, true,
                    "The wait of one try for its response head, inside timeouts.response (default: none); null turns"
                            + " an inherited one off")
            .build();

    static final FieldTable TIMEOUTS = FieldTable.builder("Timeouts (all > 0 but queue)")
            .reload(Reload.RESTART)
            .duration("connect", TimeoutsConfig.DEFAULT.connect(), true, "Connecting to a backend")
            .reload(Reload.LIVE)
            .duration("response", TimeoutsConfig.DEFAULT.response(), true,
                    "The client's whole wait for the response head, all tries together")
            .reload(Reload.RESTART)
            .duration("client-idle", TimeoutsConfig.DEFAULT.clientIdle(), true, "An idle client connection closes")
            .duration("request-head", TimeoutsConfig.DEFAULT.requestHead(), true,
                    "A request head must be complete this long after its first byte (a connection's first: after"
                            + " accept); past it, 408 or GOAWAY and close")
            .duration("backend-idle", TimeoutsConfig.DEFAULT.backendIdle(), true,
                    "Idle pooled connections close; a response (an SSE stream) silent this long is cut")
            .reload(Reload.LIVE)
            .duration("drain", TimeoutsConfig.DEFAULT.drain(), true, "How long shutdown waits for requests in progress")
            .duration("tunnel-idle", TimeoutsConfig.DEFAULT.tunnelIdle(), true,
                    "A WebSocket (or other 101 tunnel) silent both ways this long is closed")
            .duration("queue", TimeoutsConfig.DEFAULT.queue(), false,
                    "A request finding every backend at max-in-flight waits this long for a slot, then gets 503;"
                            + " 0s: 503 at once")
            .build();
    static final FieldTable POOL_TIMEOUTS = TIMEOUTS.only("A pool's timeouts (the others belong to shared sockets)",
            List.of("response", "queue"));

    static final FieldTable LIMITS = FieldTable.builder("Request limits")
            .reload(Reload.RESTART)
            .integer("max-header-bytes", 16_384, 1024, 1_048_576, "Request line and headers together")
            .integer("max-uri-bytes", 8192, 256, 1_048_576, "Request target, at most max-header-bytes")
            .reload(Reload.LIVE)
            .integer("max-body-bytes", 10_485_760L, 0, Long.MAX_VALUE, "Largest request body")
            .positiveInteger("max-connections", 10_000, "Client connections at once")
            .integer("max-queue", LimitsConfig.DEFAULT_MAX_QUEUE, 0, Integer.MAX_VALUE,
                    "Requests waiting at once per pool for a backend below max-in-flight; 0: none wait")
            .integer("connections-per-client", 0, 0, Integer.MAX_VALUE,
                    "Client connections at once from one address (a trusted edge's PROXY source); more get 503;"
                            + " 0: no cap")
            .integer("max-response-bytes", 0, 0, Long.MAX_VALUE,
                    "Response bodies past this are cut: 502 before the head, else the connection closes; 0: none")
            .build();

    static final FieldTable DECISION_HEADER = FieldTable.builder(
            "A request carrying `request` from a trusted network gets X-Fulcrum-Decision")
            .custom("request", null, headerSchema(), "The request header asking for the decision (required)")
            .custom("trusted", List.of("127.0.0.0/8", "::1/128"), obj("type", "array", "items", obj("type", "string")),
                    "Client networks whose requests may ask, each " + NETWORKS)
            .build();

    static final FieldTable TRUSTED_EDGES = FieldTable.builder("The proxies in front (CDN, L4 balancer)")
            .custom("networks", null, obj("type", "array", "minItems", 1, "items", obj("type", "string")),
                    "Peers whose word about the client is taken, each " + NETWORKS + " (required)")
            .bool("forwarded-for", true,
                    "A trusted peer's X-Forwarded-For names the client: its rightmost untrusted address")
            .oneOf("proxy-protocol", "off",
                    yamlNames(TrustedEdgesConfig.ProxyProtocol.values(), TrustedEdgesConfig.ProxyProtocol::yamlName),
                    "A PROXY header a trusted peer may send; one from anybody else closes the connection")
            .build();

    static final FieldTable HEADERS = FieldTable.builder("Client-sent headers the balancer could be lied to with")
            .oneOf("forwarded", HeadersConfig.DEFAULT.forwarded().yamlName(),
                    yamlNames(HeadersConfig.Forwarded.values(), HeadersConfig.Forwarded::yamlName),
                    "drop: no Forwarded of the balancer's own, an untrusted peer's removed; set: the balancer's"
                            + " own element, in place of an untrusted peer's and after a trusted edge's")
            .oneOf("request-id", HeadersConfig.DEFAULT.requestId().yamlName(), FROM,
                    "Whose X-Request-Id is kept: edges (trusted-edges only) or any; others get a new id")
            .oneOf("trace-context", HeadersConfig.DEFAULT.traceContext().yamlName(), FROM,
                    "Whose traceparent and tracestate continue a trace: edges (trusted-edges only) or any")
            .build();

    static final FieldTable RATE_LIMIT = FieldTable.builder("A token bucket per key, in this process or in the fleet's Redis")
            .custom("rate", null, obj("type", "string", "pattern", "^[0-9]+(\\.[0-9]+)?/(s|m|h)$"),
                    "N/s, N/m or N/h, N > 0 (required)")
            .computedInteger("burst", 1, RateLimitSection.MAX_BURST,
                    "Bucket size (default: one second's worth of rate, at least 1)")
            .custom("key", "client-address", obj("type", "string", "pattern", "^(client-address|header:.+)$"),
                    "client-address or header:NAME (a request without the header: its client address)")
            .integer("max-keys", RateLimitConfig.DEFAULT_MAX_KEYS, 1, RateLimitSection.MAX_KEYS_LIMIT,
                    "Keys tracked at once, in a table of that many slots")
            .oneOf("store", RateLimitConfig.Store.LOCAL.yamlName(),
                    yamlNames(RateLimitConfig.Store.values(), RateLimitConfig.Store::yamlName),
                    "local (this process's own buckets) or redis (one bucket per key for every balancer sharing"
                            + " the top-level redis)")
            .build();

    static final FieldTable REDIS = FieldTable.builder("The fleet's Redis, where rate limits with store: redis live")
            .reload(Reload.RESTART)
            .custom("url", null, obj("type", "string", "pattern", "^rediss?://.+"),
                    "redis://[[user:]password@]host[:port][/database], or rediss:// for TLS (required)")
            .duration("timeout", RedisConfig.DEFAULT_TIMEOUT, true,
                    "A reply later than this fails the command; the store counts as unreachable until it answers")
            .bool("fail-open", true, "Redis unreachable: true applies each limit in this process alone;"
                    + " false refuses the requests such a limit covers (429)")
            .string("key-prefix", RedisConfig.DEFAULT_KEY_PREFIX, "Put before every bucket's key")
            .build();

    static final FieldTable HTTP2 = FieldTable.builder("HTTP/2")
            .bool("enabled", Http2Config.DEFAULT.enabled(),
                    "HTTP/2 by ALPN on the TLS port and with prior knowledge on listen")
            .integer("max-concurrent-streams", Http2Config.DEFAULT.maxConcurrentStreams(), 1, 10_000,
                    "Streams per connection")
            .build();

    static final FieldTable AFFINITY_COOKIE = FieldTable.builder("The balancer pins each client with a cookie it sets")
            .custom("name", AffinityConfig.Cookie.DEFAULT_NAME, headerSchema(), "The cookie's name (an RFC 9110 token)")
            .custom("secret", null, obj("type", "string", "minLength", AffinitySection.MIN_SECRET),
                    "HMAC key (at least 16 characters) shared by a fleet (default: random per process); not with"
                            + " secret-file")
            .custom("secret-file", null, obj("type", "string", "minLength", 1),
                    "A file holding the HMAC key, read at load and reload; not with secret")
            .duration("max-age", null, true, "The cookie's lifetime (default: none, a session cookie); > 0")
            .build();

    static final FieldTable AFFINITY_HASH = FieldTable.builder("Consistent hashing with bounded load")
            .custom("on", null, obj("type", "string", "pattern", "^(header:.+|cookie:.+|path|client-address)$"),
                    "header:NAME, cookie:NAME, path or client-address (required)")
            .custom("balance-factor", AffinityConfig.Hash.DEFAULT_BALANCE_FACTOR,
                    obj("type", "number", "minimum", 1, "maximum", 100),
                    "No backend takes more than this times the average in-flight (1-100)")
            .build();

    static final FieldTable AFFINITY = FieldTable.builder("Session affinity: one of cookie or hash")
            .section("cookie", AFFINITY_COOKIE, "Affinity by a cookie the balancer sets")
            .section("hash", AFFINITY_HASH, "Affinity by consistent hashing of a request attribute")
            .build();

    static final FieldTable DISCOVERY_DNS = backendLoad(FieldTable.builder(
            "A DNS name, asked again when its records' TTL runs out")
            .custom("name", null, obj("type", "string", "minLength", 1),
                    "The DNS name (required); for SRV e.g. _http._tcp.api.internal")
            .custom("type", "A", obj("type", "string", "pattern", "^([Aa]|[Aa]{4}|[Ss][Rr][Vv])$"),
                    "A, AAAA or SRV (SRV records carry port and weight)")
            .custom("port", null, obj("type", "integer", "minimum", 1, "maximum", 65535),
                    "The backends' port: required with A and AAAA, not allowed with SRV")
            .custom("server", null, obj("type", "string"),
                    "IPv4:port or [IPv6]:port (default: the system's resolvers)")
            .duration("min-ttl", DiscoveryConfig.Dns.DEFAULT_MIN_TTL, true,
                    "Shortest time between two asks; first retry after a failure")
            .duration("max-ttl", DiscoveryConfig.Dns.DEFAULT_MAX_TTL, true,
                    "Longest time an answer is used, >= min-ttl")
            .name("region", null, "The backends' region (default: the top-level region)"),
            "Relative share of requests (A and AAAA only)", "Requests in progress at once per backend")
            .build();

    static final FieldTable DISCOVERY = FieldTable.builder("Backends discovered instead of `backends`: one of dns or file")
            .section("dns", DISCOVERY_DNS, "Backends from DNS")
            .custom("file", null, obj("type", "string", "minLength", 1),
                    "A watched YAML or JSON file: { backends: [ ... ] }")
            .build();

    static final List<String> PROTOCOLS = Arrays.stream(BackendProtocol.values())
            .map(BackendProtocol::word).toList();

    /** A named pool: its backends and overrides of the top-level sections. */
    static final FieldTable POOL = keyByKey(FieldTable.builder("A named pool")
                    .sections("backends", BACKEND, "Required, at least one; ids unique across all pools"),
            Map.entry("routing", POOL_ROUTING), Map.entry("health", HEALTH), Map.entry("outlier", OUTLIER),
            Map.entry("retry", RETRY))
            .section("timeouts", POOL_TIMEOUTS, "Overrides of the top-level timeouts (response and queue only)")
            .section("affinity", AFFINITY, "As the top-level affinity (default: inherit it); null turns it off")
            .section("discovery", DISCOVERY, "As the top-level discovery, instead of backends")
            .oneOf("protocol", null, PROTOCOLS, "As the top-level protocol (default: inherit it)")
            .build();

    static final FieldTable ROUTE = AccessSchema.routeKeys(FieldTable.builder(
            "A route: match, then exactly one of pool, split, redirect, respond")
            .custom("name", null, nameSchema(),
                    "How the access log, the metrics and the rate limit name the route, unique (default: routes[i])")
            .section("match", RouteSchema.MATCH, "Conditions (default: every request)")
            .custom("pool", null, nameSchema(), "Send to this pool")
            .sections("split", RouteSchema.SPLIT_SHARE, "Send to several pools, each its weighted share (a canary)")
            .custom("split-by", null, obj("type", "string", "pattern", "^(header:.+|cookie:.+|path|client-address)$"),
                    "Keeps a client on one pool of the split by its key: header:NAME, cookie:NAME, path or"
                            + " client-address (default: none, each request drawn at random)")
            .section("redirect", RouteSchema.REDIRECT, "Answer with a redirect")
            .section("respond", RouteSchema.RESPOND, "Answer directly")
            .section("mirror", RouteSchema.MIRROR, "Copy a share of the requests to a shadow pool (default: none)")
            .section("hedge", TrafficSchema.HEDGE, "Send a slow idempotent request to a second backend too (default: none)")
            .section("request-headers", RouteSchema.HEADER_EDITS, "Edits of the request to the backend")
            .section("response-headers", RouteSchema.HEADER_EDITS, "Edits of the response to the client")
            .section("rewrite", RouteSchema.REWRITE, "Path rewrite")
            .custom("rate-limit", null, obj("oneOf", List.of(obj("const", "off"), io.fulcrum.config.JsonSchemas.of(RATE_LIMIT))),
                    "In place of the top-level rate-limit for this route's requests; off: none")
            .section("compression", RouteSchema.COMPRESSION, "Compress responses (default: none)")
            .bool("require-client-certificate", false,
                    "true: a request without a verified client certificate (tls.client-certificates) gets 403"))
            .build();

    /** The whole file. */
    public static final FieldTable FILE = FieldTable.builder("Fulcrum balancer configuration (balancer.yaml)")
            .section("listen", LISTEN, "The traffic listener")
            .section("admin", ADMIN, "The admin listener: health, readiness, metrics, backend status, reload")
            .name("region", ConfigLoader.DEFAULT_REGION, "Where this balancer runs")
            .section("routing", ROUTING, "How a backend is picked")
            .sections("backends", BACKEND, "The pool \"default\"; required, at least one, unless pools are given")
            .oneOf("protocol", BackendProtocol.HTTP1.word(), PROTOCOLS, "To the backends: http1, h2c (HTTP/2 in"
                    + " clear text), h2 (HTTP/2 over TLS by ALPN) or auto (ALPN decides over TLS, else http1)")
            .section("health", HEALTH, "Active health checks")
            .section("outlier", OUTLIER, "Passive outlier ejection")
            .section("retry", RETRY, "Retries")
            .section("timeouts", TIMEOUTS, "Timeouts")
            .section("limits", LIMITS, "Request limits")
            .reload(Reload.RESTART)
            .custom("access-log", ConfigLoader.DEFAULT_ACCESS_LOG,
                    obj("anyOf", List.of(obj("type", "string", "minLength", 1), obj("const", false))),
                    "stdout, off (or false) or a file path")
            .oneOf("transport", "auto", List.of("auto", "io_uring", "epoll", "nio"),
                    "Socket transport: auto (io_uring, else epoll, else nio), io_uring (where the kernel allows it), epoll or nio")
            .reload(Reload.LIVE)
            .custom("backend-header", null, headerSchema(), "Response header naming the backend (default: none)")
            .oneOf("access-log-format", "json", List.of("json", "logfmt"), "json (one object per line) or logfmt")
            .section("decision-header", DECISION_HEADER, "Routing decisions on request (default: none)")
            .section("tls", TlsSchema.TLS, "HTTPS listener (default: none)")
            .section("http2", HTTP2, "HTTP/2")
            .section("backend-tls", TlsSchema.BACKEND_TLS, "TLS to https:// backends")
            .namedSections("pools", POOL, "More named pools, in this order (default: none)")
            .sections("routes", ROUTE, "Tried in order, the first match wins (default: none)")
            .custom("default-pool", null, nameSchema(),
                    "The pool of requests no route matches (default: a 404, or \"default\" without routes)")
            .section("trusted-edges", TRUSTED_EDGES, "The proxies in front (default: none)")
            .section("headers", HEADERS, "Client-sent Forwarded, X-Request-Id and trace context")
            .section("rate-limit", RATE_LIMIT, "Rate limit per key (default: none)")
            .section("redis", REDIS, "The fleet's Redis for rate limits with store: redis (default: none)")
            .section("client-networks", AccessSchema.CLIENT_NETWORKS, "Client networks allowed and denied (default: all"
                    + " allowed)")
            .section("affinity", AFFINITY, "Session affinity for the pool \"default\" and pools without their own"
                    + " (default: none)")
            .section("discovery", DISCOVERY, "The pool \"default\"'s backends from DNS or a file, instead of"
                    + " `backends` (default: none)")
            .build();

    private BalancerSchema() {
    }

    /**
     * The settings of the file that a reload cannot apply: dotted paths, a section whose every key
     * needs a restart being one ({@code health}), otherwise its keys ({@code timeouts.connect}).
     */
    public static List<String> restartSettings() {
        return FILE.restartUnits();
    }

    /** The same within one named pool ({@code health}, {@code outlier}). */
    public static List<String> poolRestartSettings() {
        return POOL.restartUnits();
    }

    /**
     * Ends {@code b} with {@code weight} and {@code max-in-flight}, the load keys of a backend, listed
     * ({@link #BACKEND}) or discovered ({@link #DISCOVERY_DNS}), with their defaults and ranges.
     */
    private static FieldTable.Builder backendLoad(FieldTable.Builder b, String weightDoc, String maxInFlightDoc) {
        return b.positiveInteger("weight", 1, weightDoc)
                .positiveInteger("max-in-flight", 512, maxInFlightDoc);
    }

    /** Adds to {@code b} each of {@code sections}, a pool's overrides of the top-level section, key by key. */
    @SafeVarargs
    private static FieldTable.Builder keyByKey(FieldTable.Builder b, Map.Entry<String, FieldTable>... sections) {
        for (Map.Entry<String, FieldTable> s : sections) {
            b.section(s.getKey(), s.getValue(), "Overrides of the top-level " + s.getKey() + ", key by key");
        }
        return b;
    }

    /** The YAML words of an enum's constants, in declaration order. */
    static <E extends Enum<E>> List<String> yamlNames(E[] values, Function<E, String> yamlName) {
        return Arrays.stream(values).map(yamlName).toList();
    }

    static Map<String, Object> obj(Object... keyValues) {
        return AccessSchema.obj(keyValues);
    }

    private static Map<String, Object> nameSchema() {
        return obj("type", "string", "pattern", "^[A-Za-z0-9._-]+$");
    }

    static Map<String, Object> headerSchema() {
        return RouteSchema.headerSchema();
    }
}
