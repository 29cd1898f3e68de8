package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Locale;

/**
 * The proxies in front of the balancer (a CDN, an L4 load balancer) whose word about the client's
 * address is taken. Only a peer inside {@code networks} is believed: its PROXY protocol header
 * gives the client's address, and so does its {@code X-Forwarded-For} (the rightmost address that
 * is not itself trusted, as nginx's {@code real_ip_recursive}). Anybody else's PROXY header closes
 * the connection and their {@code X-Forwarded-For} is only forwarded, never believed. The other
 * headers a client could forge (the region header, {@code X-Forwarded-Proto}, {@code -Host},
 * {@code -Port}, {@code Forwarded}, {@code X-Request-Id}, trace context) are taken from the same
 * peers only ({@link HeadersConfig}).
 *
 * @param networks the trusted peers, at least one
 * @param forwardedFor whether {@code X-Forwarded-For} from a trusted peer names the client
 * @param proxyProtocol which PROXY protocol versions a trusted peer may send
 */
public record TrustedEdgesConfig(List<Cidr> networks, boolean forwardedFor, ProxyProtocol proxyProtocol) {

    /** PROXY protocol versions accepted from a trusted peer; the header is optional even then. */
    public enum ProxyProtocol {
        OFF, V1, V2, ANY;

        public String yamlName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Whether a header of version {@code v} (1 or 2) is accepted. */
        public boolean accepts(int v) {
            return this == ANY || (this == V1 && v == 1) || (this == V2 && v == 2);
        }
    }

    public TrustedEdgesConfig {
        networks = List.copyOf(requireNonNull(networks, "networks"));
        requireNonNull(proxyProtocol, "proxyProtocol");
        if (networks.isEmpty()) {
            throw new IllegalArgumentException("networks: at least one is required");
        }
    }
}
