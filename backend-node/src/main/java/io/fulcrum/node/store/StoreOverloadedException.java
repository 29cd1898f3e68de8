package io.fulcrum.node.store;

/**
 * The bounded queue in front of the JDBC workers is full, so the request was refused at once instead
 * of waiting without bound. The HTTP layer answers 503 with {@code Retry-After}.
 *
 * <p>Immutable and thread-safe.
 */
public final class StoreOverloadedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception for the named worker pool. */
    public StoreOverloadedException(String pool) {
        super(pool + " queue is full", null, false, false);
    }
}
