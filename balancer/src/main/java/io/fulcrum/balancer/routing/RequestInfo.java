package io.fulcrum.balancer.routing;

import java.util.List;

/**
 * What a {@link LoadBalancer} may know of one request.
 *
 * @param clientRegion the client's region (from the region header), or {@code null} for the
 *     balancer's own region
 * @param excluded backends already tried for this request; retries avoid them when another exists
 */
public record RequestInfo(String clientRegion, List<Backend> excluded) {
    public static final RequestInfo DEFAULT = new RequestInfo(null, List.of());

    public RequestInfo {
        excluded = excluded == null ? List.of() : excluded;
    }
}
