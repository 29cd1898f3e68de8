package io.fulcrum.node.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * The live timeline feed ({@code GET /events}, Server-Sent Events).
 *
 * @param pollInterval how often the node's one feed asks the store for new changes
 * @param heartbeat how often every open stream gets a comment line while nothing else is sent, so
 *     that proxies with an idle timeout (the balancer's {@code timeouts.backend-idle}, 30 s by
 *     default) keep it open; keep it below the shortest such timeout. Below 60 s, the node's own
 *     idle timeout for connections.
 * @param maxStreams how many streams the node holds open at once; one more is answered 503
 *
 * <p>Immutable and thread-safe.
 */
public record EventsConfig(Duration pollInterval, Duration heartbeat, int maxStreams) {
    // Before DEFAULTS, which the validation below reads it for.
    private static final Duration MAX_HEARTBEAT = Duration.ofSeconds(60);
    /** The defaults: a store poll every 500 ms, a heartbeat every 15 s, at most 1,000 streams. */
    public static final EventsConfig DEFAULTS = new EventsConfig(Duration.ofMillis(500), Duration.ofSeconds(15), 1000);

    /** Validates the settings. */
    public EventsConfig {
        requireNonNull(pollInterval, "pollInterval");
        requireNonNull(heartbeat, "heartbeat");
        if (pollInterval.toMillis() < 10) {
            throw new IllegalArgumentException("poll-interval: " + pollInterval.toMillis() + "ms (expected: >= 10ms)");
        }
        if (heartbeat.toMillis() < 10 || heartbeat.compareTo(MAX_HEARTBEAT) >= 0) {
            throw new IllegalArgumentException("heartbeat: " + heartbeat.toMillis()
                    + "ms (expected: 10ms-59s, below the node's 60 s idle timeout)");
        }
        if (maxStreams < 1) {
            throw new IllegalArgumentException("max-streams: " + maxStreams + " (expected: >= 1)");
        }
    }
}
