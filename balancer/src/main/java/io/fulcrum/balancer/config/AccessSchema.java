package io.fulcrum.balancer.config;

import io.fulcrum.config.FieldTable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys of who may use the balancer and its routes, declared as {@link BalancerSchema}
 * declares every other: client networks, basic and forward authentication, CORS, and a route's own
 * timeouts and response limit. Every key applies on reload. It names nothing of
 * {@link BalancerSchema} while it is made, so either may be loaded first. Immutable and thread-safe.
 */
final class AccessSchema {
    private static final String NETWORKS = "a network such as 10.0.0.0/8 or fd00::/8";
    private static final Map<String, Object> STRINGS = obj("type", "array", "items", obj("type", "string"));
    private static final Map<String, Object> HEADERS = obj("type", "array", "items",
            obj("type", "string", "pattern", "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"));

    static final FieldTable CLIENT_NETWORKS = FieldTable.builder(
            "Client networks let through or refused with 403, the client as trusted-edges name it")
            .custom("allow", List.of(), STRINGS,
                    "Only clients in these networks pass, each " + NETWORKS + " (default: every client)")
            .custom("deny", List.of(), STRINGS, "Clients in these networks get 403, even when allowed")
            .build();

    static final FieldTable BASIC_AUTH = FieldTable.builder("Basic authentication (RFC 7617) from a file of bcrypt hashes")
            .custom("users-file", null, obj("type", "string", "minLength", 1),
                    "htpasswd-style file, one user:$2y$... line each (required); re-read when it changes")
            .string("realm", "Fulcrum", "The realm WWW-Authenticate names")
            .bool("forward-authorization", false, "true: the backend gets the client's Authorization header too")
            .build();

    static final FieldTable FORWARD_AUTH = FieldTable.builder(
            "Ask an auth service about each request first (method, target, headers, no body)")
            .custom("url", null, obj("type", "string", "pattern", "^http://"),
                    "http://host[:port]/path of the auth service (required)")
            .duration("timeout", AuthSection.DEFAULT_TIMEOUT, true, "The wait for the service's whole answer")
            .custom("request-headers", List.of(), HEADERS,
                    "Client headers sent to the service (default: all but hop-by-hop and body framing)")
            .custom("response-headers", List.of(), HEADERS,
                    "Headers of a 2xx answer copied onto the request for the backend")
            .integer("unavailable-status", 503, 400, 599,
                    "The client's status when the service is down, slow or unreadable")
            .build();

    static final FieldTable CORS = FieldTable.builder("Cross-origin requests from browsers; preflights answered here")
            .custom("allow-origins", null, obj("type", "array", "minItems", 1, "items", obj("type", "string")),
                    "Origins such as https://app.example.com, patterns such as https://*.example.com, or * (required)")
            .custom("allow-methods", List.of(), HEADERS, "Methods besides GET, HEAD and POST a preflight may ask for")
            .custom("allow-headers", List.of(), STRINGS, "Request headers a preflight may ask for; * for any")
            .custom("expose-headers", List.of(), HEADERS, "Response headers scripts may read")
            .bool("allow-credentials", false, "true: requests with cookies or HTTP authentication may read responses")
            .duration("max-age", null, false, "How long a browser keeps a preflight's answer (default: its own)")
            .build();

    static final FieldTable ROUTE_LIMITS = FieldTable.builder("A route's own limits")
            .custom("max-response-bytes", null, obj("type", "integer", "minimum", 0),
                    "In place of limits.max-response-bytes; 0: none")
            .build();

    private AccessSchema() {
    }

    /** A JSON Schema object of key-value pairs, in order ({@link BalancerSchema}'s too). */
    static Map<String, Object> obj(Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    /** Adds the route's keys of this table to the route's table {@code b}. */
    static FieldTable.Builder routeKeys(FieldTable.Builder b) {
        return b.section("client-networks", CLIENT_NETWORKS, "In place of the top-level client-networks")
                .section("basic-auth", BASIC_AUTH, "Basic authentication (routes to a pool)")
                .section("forward-auth", FORWARD_AUTH, "Forward authentication (routes to a pool)")
                .section("cors", CORS, "Cross-origin resource sharing")
                .section("timeouts", BalancerSchema.POOL_TIMEOUTS, "In place of the pool's timeouts (response and queue)")
                .section("limits", ROUTE_LIMITS, "The route's own response size limit");
    }
}
