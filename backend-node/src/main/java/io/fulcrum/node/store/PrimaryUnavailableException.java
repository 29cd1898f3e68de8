package io.fulcrum.node.store;

/**
 * The primary cannot be reached, so a write was refused (at once while the primary is known to be
 * down, so callers never wait on it), or a read that only the primary could serve failed. Reads that a
 * replica can serve go on. The HTTP layer answers 503 with {@code Retry-After}.
 *
 * <p>Immutable and thread-safe.
 */
public final class PrimaryUnavailableException extends StoreUnavailableException {
    private static final long serialVersionUID = 1L;

    /** Creates the exception; {@code cause} may be null when the primary was already known to be down. */
    public PrimaryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
