package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Arrays;

/**
 * Session affinity of a pool: requests of one client or one key keep going to the same backend.
 * Exactly one of {@code cookie} and {@code hash} is set.
 *
 * @param cookie the balancer pins a client to a backend with a cookie it sets, or {@code null}
 * @param hash the backend is chosen by consistent hashing of a request key, or {@code null}
 */
public record AffinityConfig(Cookie cookie, Hash hash) {
    public AffinityConfig {
        if ((cookie == null) == (hash == null)) {
            throw new IllegalArgumentException("exactly one of cookie and hash (got " + cookie + ", " + hash + ")");
        }
    }

    /**
     * Cookie stickiness: the balancer names the backend that served a request in a cookie (an HMAC
     * of the backend id, so clients can neither read nor forge it) and sends the next requests that
     * carry it to the same backend while it is routable.
     *
     * @param name the cookie's name
     * @param secret the HMAC key; {@code null}: a random one made when the balancer starts (cookies
     *     then hold only until a restart and only for this balancer)
     * @param maxAge the cookie's Max-Age, or {@code null} for a session cookie
     */
    public record Cookie(String name, byte[] secret, Duration maxAge) {
        public static final String DEFAULT_NAME = "FULCRUM_AFFINITY";

        public Cookie {
            requireNonNull(name, "name");
            secret = secret == null ? null : secret.clone();
        }

        @Override
        public byte[] secret() {
            return secret == null ? null : secret.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Cookie c && name.equals(c.name) && Arrays.equals(secret, c.secret)
                    && java.util.Objects.equals(maxAge, c.maxAge);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(secret);
        }

        /** Never shows the secret: the text form goes into logs and the config fingerprint. */
        @Override
        public String toString() {
            return "Cookie[name=" + name + ", secret=" + (secret == null ? "generated" : "configured")
                    + ", maxAge=" + maxAge + "]";
        }
    }

    /**
     * Consistent hashing with bounded load over the pool's routable backends.
     *
     * @param on where the key comes from
     * @param name the header or cookie name for {@link Source#HEADER} and {@link Source#COOKIE}, else {@code null}
     * @param balanceFactor no backend takes more in-flight requests than this times the (weighted)
     *     average; at least 1
     */
    public record Hash(Source on, String name, double balanceFactor) {
        public static final double DEFAULT_BALANCE_FACTOR = 1.25;

        /** The request part hashed. */
        public enum Source {
            HEADER, COOKIE, PATH, CLIENT_ADDRESS
        }

        public Hash {
            requireNonNull(on, "on");
            if ((on == Source.HEADER || on == Source.COOKIE) != (name != null)) {
                throw new IllegalArgumentException("name: " + name + " for " + on);
            }
            if (!(balanceFactor >= 1)) {
                throw new IllegalArgumentException("balanceFactor: " + balanceFactor + " (expected: >= 1)");
            }
        }
    }
}
