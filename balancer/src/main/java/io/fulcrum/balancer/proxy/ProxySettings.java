package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.config.BalancerConfig;
import io.netty.util.AsciiString;

/**
 * The values the request path needs, precomputed from one {@link BalancerConfig}. Immutable;
 * swapped as a whole on reload and read once per request.
 *
 * @param regionHeader header carrying the client's region, or {@code null}
 * @param backendHeader response header naming the backend, or {@code null}
 * @param responseTimeoutNanos time allowed for the response headers of one try
 * @param maxBodyBytes request bodies past this get 413
 * @param retryAttempts extra tries after the first
 * @param replayBodyBytes request bodies up to this size are kept for a retry
 */
public record ProxySettings(
        AsciiString regionHeader,
        AsciiString backendHeader,
        long responseTimeoutNanos,
        long maxBodyBytes,
        int retryAttempts,
        int replayBodyBytes) {

    public static ProxySettings from(BalancerConfig config) {
        return new ProxySettings(
                config.routing().regionHeader() == null ? null : AsciiString.cached(config.routing().regionHeader()),
                config.backendHeader() == null ? null : AsciiString.cached(config.backendHeader()),
                config.retry().perTryTimeoutOr(config.timeouts().response()).toNanos(),
                config.limits().maxBodyBytes(),
                config.retry().attempts(),
                config.retry().replayBodyBytes());
    }
}
