package io.fulcrum.node.store;


/**
 * One row of the change log: a post was created, edited or deleted.
 *
 * @param seq the change's position in the log; grows with every committed change, in commit order
 * @param postId the post it concerns
 * @param post the post as it is now, or {@code null} when it no longer exists (deleted by this
 *     change or a later one)
 *
 * <p>Immutable and thread-safe.
 */
public record PostChange(long seq, long postId, Post post) {
    /** Whether the post is gone. */
    public boolean deleted() {
        return post == null;
    }
}
