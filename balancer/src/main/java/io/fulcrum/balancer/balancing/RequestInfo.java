package io.fulcrum.balancer.balancing;

import java.util.List;

/**
 * What a {@link LoadBalancer} may know of one request.
 *
 * @param clientRegion the client's region (from the region header), or {@code null} for the
 *     balancer's own region
 * @param excluded backends already tried for this request; retries avoid them when another exists
 * @param affinityCookie the value of the pool's affinity cookie, or {@code null} when it has none
 *     (or the pool has no cookie affinity)
 * @param affinityKey the {@link Affinity#hash} of the request's hash key; meaningful only when
 *     {@code hasAffinityKey}
 * @param hasAffinityKey whether the request carries the key the pool's hash affinity reads
 */
public record RequestInfo(String clientRegion, List<Backend> excluded, String affinityCookie, long affinityKey,
        boolean hasAffinityKey) {
    public static final RequestInfo DEFAULT = new RequestInfo(null, List.of());

    public RequestInfo {
        excluded = excluded == null ? List.of() : excluded;
    }

    /** A request without affinity information. */
    public RequestInfo(String clientRegion, List<Backend> excluded) {
        this(clientRegion, excluded, null, 0, false);
    }

    /** This request, with {@code excluded} as the backends tried (a retry). */
    public RequestInfo withExcluded(List<Backend> excluded) {
        return new RequestInfo(clientRegion, excluded, affinityCookie, affinityKey, hasAffinityKey);
    }
}
