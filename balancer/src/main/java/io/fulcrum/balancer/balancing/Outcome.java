package io.fulcrum.balancer.balancing;

/** How one request to a backend ended, as far as health and routing care. */
public enum Outcome {
    /** A response below 500 was received. */
    SUCCESS,
    /** The backend answered 5xx. */
    SERVER_ERROR,
    /** The connection could not be established (refused, timed out). */
    CONNECT_FAILURE,
    /** The connection was closed or reset before the response was complete. */
    RESET,
    /**
     * The response could not be parsed (its head, or its body's framing), or was one nobody asked
     * for (a 101 without an upgrade request): the backend is there but speaks no sound HTTP.
     */
    MALFORMED,
    /** No response within the response timeout. */
    TIMEOUT,
    /** The client went away first; says nothing about the backend. */
    CANCELLED;

    private final String label = name().toLowerCase(java.util.Locale.ROOT);

    /** The lower-case name, as the access log and metrics write it. */
    public String label() {
        return label;
    }

    /** Whether this outcome counts against the backend for outlier detection. */
    public boolean isFailure() {
        return this != SUCCESS && this != CANCELLED;
    }
}
