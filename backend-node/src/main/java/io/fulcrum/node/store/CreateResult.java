package io.fulcrum.node.store;

import static java.util.Objects.requireNonNull;


/**
 * The outcome of creating a post.
 *
 * @param post the new post, or the one created earlier with the same idempotency key
 * @param created {@code false} when the idempotency key had been used before and nothing was written
 *
 * <p>Immutable and thread-safe.
 */
public record CreateResult(Post post, boolean created) {
    /** Validates the result. */
    public CreateResult {
        requireNonNull(post, "post");
    }
}
