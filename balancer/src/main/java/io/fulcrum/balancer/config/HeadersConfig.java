package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.util.Locale;

/**
 * What the balancer does with the request headers a client could forge ({@code headers}): the
 * RFC 7239 {@code Forwarded} field, and whose {@code X-Request-Id} and W3C trace context are kept.
 * A peer is "trusted" when its address (a trusted PROXY header's source, else the TCP peer) is in
 * {@code trusted-edges.networks}; without {@code trusted-edges} no peer is.
 *
 * @param forwarded {@link Forwarded#DROP}: the balancer writes no {@code Forwarded}, an untrusted
 *     peer's is removed and a trusted edge's passes unchanged; {@link Forwarded#SET}: the balancer
 *     writes its own element, in place of an untrusted peer's and after a trusted edge's
 * @param requestId whose {@code X-Request-Id} is kept; anybody else's request gets a new id
 * @param traceContext whose {@code traceparent} and {@code tracestate} continue their trace;
 *     anybody else's request starts a new trace
 */
public record HeadersConfig(Forwarded forwarded, From requestId, From traceContext) {
    /**
     * No {@code Forwarded} of the balancer's own, and only trusted edges choose a request's id and
     * trace: what nginx, HAProxy and Envoy do unless told otherwise.
     */
    public static final HeadersConfig DEFAULT = new HeadersConfig(Forwarded.DROP, From.EDGES, From.EDGES);

    /** What becomes of the {@code Forwarded} field (RFC 7239). */
    public enum Forwarded {
        DROP, SET;

        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Whose word is taken: only trusted edges', or anybody's. */
    public enum From {
        EDGES, ANY;

        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public HeadersConfig {
        requireNonNull(forwarded, "forwarded");
        requireNonNull(requestId, "requestId");
        requireNonNull(traceContext, "traceContext");
    }
}
