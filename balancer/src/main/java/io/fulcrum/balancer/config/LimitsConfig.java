package io.fulcrum.balancer.config;

/**
 * @param maxHeaderBytes request headers larger than this get 431
 * @param maxUriBytes request lines longer than this get 414
 * @param maxBodyBytes request bodies larger than this get 413
 * @param maxConnections client connections past this are closed at once
 */
public record LimitsConfig(int maxHeaderBytes, int maxUriBytes, long maxBodyBytes, int maxConnections) {
}
