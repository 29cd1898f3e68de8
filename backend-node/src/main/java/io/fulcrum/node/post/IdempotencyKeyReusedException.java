package io.fulcrum.node.post;

/**
 * A create request carried an {@code Idempotency-Key} that an earlier request with another body
 * already used. Replaying the first post would silently drop this request's content, so the API
 * refuses it instead (422, as Stripe-style APIs answer); the client must pick a new key.
 *
 * <p>Immutable and thread-safe.
 */
public final class IdempotencyKeyReusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long postId;

    /** Creates the exception for the post {@code postId} that owns the key. */
    public IdempotencyKeyReusedException(long postId, String detail) {
        super(detail, null, false, false);
        this.postId = postId;
    }

    /** The post created by the first request with this key. */
    public long postId() {
        return postId;
    }
}
