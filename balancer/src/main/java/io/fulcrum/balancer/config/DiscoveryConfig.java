package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where the pool's backends come from when they are not listed in {@code backends}: a DNS name
 * re-resolved on its TTL, or a file that is watched. Exactly one of {@code dns} and {@code file}.
 *
 * @param dns the DNS name to resolve, or {@code null}
 * @param file a YAML or JSON file with a {@code backends} list as in the main config, or {@code null}
 */
public record DiscoveryConfig(Dns dns, Path file) {
    public DiscoveryConfig {
        if ((dns == null) == (file == null)) {
            throw new IllegalArgumentException("exactly one of dns and file (got " + dns + ", " + file + ")");
        }
    }

    /** The DNS record type asked for. */
    public enum Type {
        A, AAAA, SRV
    }

    /**
     * A DNS name whose records are the backends: one per address (A, AAAA) on {@code port}, or one
     * per SRV record (its target, port and weight).
     *
     * @param name the name to resolve
     * @param type the record type
     * @param port the backends' port for A and AAAA; 0 for SRV
     * @param server the DNS server ({@code host:port} with a literal address), or {@code null} for the
     *     system's resolvers
     * @param minTtl the shortest time between two resolutions, whatever the TTL says; also the first
     *     wait after a failed one
     * @param maxTtl the longest time a resolved set is used before asking again
     * @param region the backends' region ({@code region} of the balancer when omitted)
     * @param weight the backends' weight for A and AAAA (SRV records carry their own)
     * @param maxInFlight each backend's max-in-flight
     */
    public record Dns(String name, Type type, int port, String server, Duration minTtl, Duration maxTtl,
            String region, int weight, int maxInFlight) {
        public static final Duration DEFAULT_MIN_TTL = Duration.ofSeconds(1);
        public static final Duration DEFAULT_MAX_TTL = Duration.ofMinutes(5);

        public Dns {
            requireNonNull(name, "name");
            requireNonNull(type, "type");
            requireNonNull(minTtl, "minTtl");
            requireNonNull(maxTtl, "maxTtl");
            requireNonNull(region, "region");
            if (type == Type.SRV ? port != 0 : port < 1 || port > 65535) {
                throw new IllegalArgumentException("port: " + port + " for " + type);
            }
            if (minTtl.isNegative() || minTtl.isZero() || maxTtl.compareTo(minTtl) < 0) {
                throw new IllegalArgumentException("ttl bounds: " + minTtl + ", " + maxTtl);
            }
        }
    }
}
