package io.fulcrum.node.post;

import static java.util.Objects.requireNonNull;

/**
 * A request value broke a rule of the post API; {@code field} names the offending JSON field or query
 * parameter. The HTTP layer answers 400 with the field in the error body.
 *
 * <p>Immutable and thread-safe.
 */
public final class InvalidInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String field;

    /** Creates the exception for {@code field} with a human-readable {@code detail}. */
    public InvalidInputException(String field, String detail) {
        super(detail, null, false, false);
        this.field = requireNonNull(field, "field");
    }

    /** The JSON field or query parameter at fault. */
    public String field() {
        return field;
    }
}
