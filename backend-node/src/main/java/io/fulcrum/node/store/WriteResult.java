package io.fulcrum.node.store;


/**
 * The outcome of an edit or a delete.
 *
 * @param status what happened
 * @param post for {@link Status#DONE} the post after an edit or as it was before a delete; for
 *     {@link Status#VERSION_MISMATCH} the current post; {@code null} for {@link Status#NOT_FOUND}
 *
 * <p>Immutable and thread-safe.
 */
public record WriteResult(Status status, Post post) {
    /** What a conditional write did. */
    public enum Status {
        /** The write was applied. */
        DONE,
        /** No post has that id. */
        NOT_FOUND,
        /** The post exists, but not in the version the client expected; nothing was written. */
        VERSION_MISMATCH
    }

    static WriteResult notFound() {
        return new WriteResult(Status.NOT_FOUND, null);
    }
}
