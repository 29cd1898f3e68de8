package io.fulcrum.balancer.balancing;

import io.fulcrum.balancer.config.AffinityConfig;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The session affinity of one snapshot of a pool, as {@link AffinityConfig} asks: either the cookie
 * tokens of its backends, or the hash ring over its routable backends. Built by
 * {@link LoadBalancerFactory} with the snapshot; immutable and thread-safe. The proxy reads
 * {@link #config()} to know which part of a request to look at, puts what it found into the
 * {@link RequestInfo}, and asks {@link #cookieValue} what to set on the response.
 *
 * <p>Cookie tokens: the first 16 bytes of HMAC-SHA256(secret, backend id), base64url. A client
 * can neither tell which backend a token names nor make a token for a backend it was not sent to,
 * so a forged or damaged cookie matches nothing and is ignored. The same secret gives the same
 * tokens: balancers that share a configured secret, and one balancer across restarts, honour each
 * other's cookies; with a generated secret (none configured) every restart re-pins each client once.
 */
public final class Affinity {
    private static final int TOKEN_BYTES = 16;
    private static final String HMAC = "HmacSHA256";

    private final AffinityConfig config;
    private final byte[] secret;
    private final Map<String, Backend> byToken;
    private final Map<String, String> tokenById;
    private final HashRing ring;

    private Affinity(AffinityConfig config, byte[] secret, Map<String, Backend> byToken, Map<String, String> tokenById,
            HashRing ring) {
        this.config = config;
        this.secret = secret;
        this.byToken = byToken;
        this.tokenById = tokenById;
        this.ring = ring;
    }

    /**
     * @param backends every backend of the snapshot; the ring takes the routable ones
     * @param previous the affinity of the snapshot being replaced, or {@code null}: a generated
     *     secret carries over, so reloads and health changes do not break existing cookies
     */
    static Affinity build(AffinityConfig config, List<Backend> backends, Affinity previous) {
        if (config.hash() != null) {
            List<Backend> routable = new ArrayList<>();
            for (Backend b : backends) {
                if (b.state().routable()) {
                    routable.add(b);
                }
            }
            return new Affinity(config, null, Map.of(), Map.of(), new HashRing(routable, config.hash().balanceFactor()));
        }
        byte[] secret = config.cookie().secret();
        if (secret == null) {
            secret = previous != null && previous.secret != null && previous.config.cookie() != null
                    && previous.config.cookie().secret() == null ? previous.secret : newSecret();
        }
        Map<String, Backend> byToken = new HashMap<>();
        Map<String, String> tokenById = new HashMap<>();
        for (Backend b : backends) {
            String token = token(secret, b.id());
            byToken.put(token, b);
            tokenById.put(b.id(), token);
        }
        return new Affinity(config, secret, Map.copyOf(byToken), Map.copyOf(tokenById), null);
    }

    public AffinityConfig config() {
        return config;
    }

    /** The cookie value that pins a client to {@code backend}; {@code null} when affinity is by hash. */
    public String cookieValue(Backend backend) {
        if (secret == null) {
            return null;
        }
        String token = tokenById.get(backend.id());
        // A backend removed by a reload while its request was in flight still gets its own token.
        return token != null ? token : token(secret, backend.id());
    }

    /** The backend a cookie value names, or {@code null} for a value that names none (forged, stale, damaged). */
    Backend pinned(String cookieValue) {
        return byToken.get(cookieValue);
    }

    /** The ring, or {@code null} for cookie affinity. */
    HashRing ring() {
        return ring;
    }

    /** A 64-bit hash of a whole string; see {@link #hash(CharSequence, int, int)}. */
    public static long hash(CharSequence s) {
        return hash(s, 0, s.length());
    }

    /**
     * A 64-bit hash of {@code s[from, to)}: FNV-1a over the UTF-16 code units, then MurmurHash3's
     * 64-bit finaliser so that similar keys spread over the whole ring. Allocation-free, so the
     * proxy can hash a slice of a request line in place. Not cryptographic: a client that picks its
     * keys can aim at one backend, which the load bound limits.
     */
    public static long hash(CharSequence s, int from, int to) {
        long h = 0xcbf29ce484222325L;
        for (int i = from; i < to; i++) {
            h ^= s.charAt(i);
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    static byte[] newSecret() {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        return secret;
    }

    static String token(byte[] secret, String backendId) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(secret, HMAC));
            byte[] digest = mac.doFinal(backendId.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(digest, TOKEN_BYTES));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is required of every Java platform", e);
        }
    }
}
