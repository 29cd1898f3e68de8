package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * A route's forward authentication, as Traefik's ForwardAuth and nginx's {@code auth_request}:
 * each request's method, target and headers (not its body) are first sent to an auth service; a
 * 2xx answer lets the request go on, with the answer's headers named in {@code responseHeaders}
 * copied onto it, and any other answer goes to the client as the service gave it. Immutable.
 *
 * @param url the auth service's {@code http://} URL, as written
 * @param host the service's host
 * @param port the service's port
 * @param target the path and query the service is asked at
 * @param timeout the wait for the service's whole answer; past it, {@code unavailableStatus}
 * @param requestHeaders the client's headers sent to the service (case-insensitive); empty for
 *     every one
 * @param responseHeaders the headers of a 2xx answer copied onto the request for the backend
 * @param unavailableStatus what the client gets when the service cannot be reached, times out or
 *     answers unreadably
 */
public record ForwardAuthConfig(String url, String host, int port, String target, Duration timeout,
        List<String> requestHeaders, List<String> responseHeaders, int unavailableStatus) {
    public ForwardAuthConfig {
        requireNonNull(url, "url");
        requireNonNull(host, "host");
        requireNonNull(target, "target");
        requireNonNull(timeout, "timeout");
        DurationBounds.positive("timeout", timeout);
        requestHeaders = List.copyOf(requireNonNull(requestHeaders, "requestHeaders"));
        responseHeaders = List.copyOf(requireNonNull(responseHeaders, "responseHeaders"));
        if (unavailableStatus < 400 || unavailableStatus > 599) {
            throw new IllegalArgumentException("unavailableStatus: " + unavailableStatus + " (expected: 400-599)");
        }
    }
}
