package io.fulcrum.node.config;

/**
 * Request limits of the post API.
 *
 * @param maxBodyBytes largest request body accepted; larger bodies get 413
 * @param maxTextChars largest post text, in characters; longer texts get 400 naming {@code text}
 * @param maxTimelineLimit largest page a client may ask for with {@code limit}
 * @param defaultTimelineLimit page size when the client gives no {@code limit}
 *
 * <p>Immutable and thread-safe.
 */
public record NodeLimitsConfig(int maxBodyBytes, int maxTextChars, int maxTimelineLimit, int defaultTimelineLimit) {
    /** The defaults: 64 KiB bodies, 4,096-character texts, pages of 20 and at most 100. */
    public static final NodeLimitsConfig DEFAULTS = new NodeLimitsConfig(65_536, 4_096, 100, 20);

    /** Validates the limits. */
    public NodeLimitsConfig {
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("max-body-bytes: " + maxBodyBytes + " (expected: >= 1)");
        }
        if (maxTextChars < 1) {
            throw new IllegalArgumentException("max-text-chars: " + maxTextChars + " (expected: >= 1)");
        }
        if (maxTimelineLimit < 1) {
            throw new IllegalArgumentException("max-timeline-limit: " + maxTimelineLimit + " (expected: >= 1)");
        }
        if (defaultTimelineLimit < 1 || defaultTimelineLimit > maxTimelineLimit) {
            throw new IllegalArgumentException("default-timeline-limit: " + defaultTimelineLimit
                    + " (expected: 1-" + maxTimelineLimit + ")");
        }
    }
}
