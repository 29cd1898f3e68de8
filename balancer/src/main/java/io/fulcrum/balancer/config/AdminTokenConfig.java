package io.fulcrum.balancer.config;

/**
 * The bearer token that the admin API's state-changing endpoints require, from {@code admin.token}
 * or read from the file {@code admin.token-file} when the config is loaded. Its {@link #toString()}
 * never shows the token.
 *
 * @param token the token, or {@code null} when none is set
 * @param source where it came from ({@code admin.token} or the file path), for messages
 */
public record AdminTokenConfig(String token, String source) {
    public static final AdminTokenConfig NONE = new AdminTokenConfig(null, null);

    public boolean present() {
        return token != null;
    }

    @Override
    public String toString() {
        return token == null ? "AdminTokenConfig[none]" : "AdminTokenConfig[from " + source + "]";
    }
}
