package io.fulcrum.node.post;

import io.fulcrum.node.store.Post;
import java.util.List;

/**
 * One page of the timeline, newest first, and the cursor of the next (older) page, or {@code null}
 * when this is the last page.
 *
 * <p>Immutable and thread-safe.
 */
public record TimelinePage(List<Post> posts, String nextCursor) {
    /** Copies the list. */
    public TimelinePage {
        posts = List.copyOf(posts);
    }
}
