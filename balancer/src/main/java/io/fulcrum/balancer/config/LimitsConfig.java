package io.fulcrum.balancer.config;

/**
 * Request size and connection limits. Immutable and thread-safe.
 *
 * @param maxHeaderBytes request headers larger than this get 431
 * @param maxUriBytes request lines longer than this get 414
 * @param maxBodyBytes request bodies larger than this get 413
 * @param maxConnections client connections past this are closed at once
 * @param maxQueue requests that may wait at once, per pool, for a backend below its max-in-flight;
 *     a request past it gets its 503 at once; 0 queues nothing
 * @param connectionsPerClient client connections from one address past this are refused; 0 for
 *     no such cap
 * @param maxResponseBytes response bodies past this are cut (502 before the head went out, else
 *     the connection closes); 0 for no limit; a route may set its own
 */
public record LimitsConfig(int maxHeaderBytes, int maxUriBytes, long maxBodyBytes, int maxConnections, int maxQueue,
        int connectionsPerClient, long maxResponseBytes) {
    /**
     * The default queue length of a pool: the default {@code max-connections}. An HTTP/1.1 request
     * waits on a connection of its own, so the connection limit bounds the queue already; the
     * length matters for HTTP/2, whose streams share connections. The wait, not the length, is
     * what normally empties the queue ({@code timeouts.queue}).
     */
    public static final int DEFAULT_MAX_QUEUE = 10_000;

    /** Limits with the default queue length and no per-client cap. */
    public LimitsConfig(int maxHeaderBytes, int maxUriBytes, long maxBodyBytes, int maxConnections) {
        this(maxHeaderBytes, maxUriBytes, maxBodyBytes, maxConnections, DEFAULT_MAX_QUEUE);
    }

    /** Limits without a per-client cap. */
    public LimitsConfig(int maxHeaderBytes, int maxUriBytes, long maxBodyBytes, int maxConnections, int maxQueue) {
        this(maxHeaderBytes, maxUriBytes, maxBodyBytes, maxConnections, maxQueue, 0);
    }

    /** Limits without a response size limit. */
    public LimitsConfig(int maxHeaderBytes, int maxUriBytes, long maxBodyBytes, int maxConnections, int maxQueue,
            int connectionsPerClient) {
        this(maxHeaderBytes, maxUriBytes, maxBodyBytes, maxConnections, maxQueue, connectionsPerClient, 0);
    }

    /*
     * Only invariants are checked here; the loader applies the configurable ranges (1024..1048576
     * header bytes, 256.. URI bytes) so that tests may build small limits directly.
     */
    public LimitsConfig {
        atLeast("maxHeaderBytes", maxHeaderBytes, 1);
        atLeast("maxUriBytes", maxUriBytes, 1);
        atLeast("maxBodyBytes", maxBodyBytes, 0);
        atLeast("maxConnections", maxConnections, 1);
        atLeast("maxQueue", maxQueue, 0);
        atLeast("connectionsPerClient", connectionsPerClient, 0);
        atLeast("maxResponseBytes", maxResponseBytes, 0);
    }

    private static void atLeast(String name, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(name + ": " + value + " (expected: >= " + min + ")");
        }
    }
}
