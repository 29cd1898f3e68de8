package io.fulcrum.node.store;

/**
 * The store could not be reached or failed while running a statement (connection refused, pool
 * timeout, database locked past the busy timeout, disk error). Nothing was written: every write is
 * one transaction that was rolled back. The HTTP layer answers 503 and {@code /health} reports DOWN.
 *
 * <p>Immutable and thread-safe.
 */
public class StoreUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Wraps the failure that made the store unusable. */
    public StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
