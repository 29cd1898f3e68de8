package io.fulcrum.node.store;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Durable storage of posts, shared by every node of the service.
 *
 * <p>Every method blocks on I/O, so it must run on a store worker thread ({@link StoreWorkers}), never
 * on a Netty event loop. Implementations are thread-safe. Each write is one transaction: it is
 * applied entirely or not at all. Any failure of the store itself surfaces as
 * {@link StoreUnavailableException}.
 */
public interface PostStore extends AutoCloseable {
    /**
     * Creates a post. With an {@code idempotencyKey} that was used before, writes nothing and returns
     * the post created the first time, even when both calls race on different nodes.
     */
    CreateResult create(String author, String text, String idempotencyKey);

    /** Returns the post with this id, if any. */
    Optional<Post> find(long id);

    /** Replaces the text of a post, if it exists and (when given) is still at {@code expectedVersion}. */
    WriteResult update(long id, String text, OptionalLong expectedVersion);

    /** Deletes a post, if it exists and (when given) is still at {@code expectedVersion}. */
    WriteResult delete(long id, OptionalLong expectedVersion);

    /**
     * Returns up to {@code limit} posts with an id below {@code beforeId}, newest (highest id) first,
     * optionally only those of {@code author}. Paging by the last id seen never skips or repeats a
     * post, whatever is inserted meanwhile, because ids only grow.
     */
    List<Post> timeline(String author, long beforeId, int limit);

    /**
     * Returns the changes logged after {@code afterSeq}, oldest first, at most {@code limit}, each
     * with its post as it is now. Every committed create, edit and delete is logged, in commit
     * order; only the newest changes are kept (at least the last 10,000).
     */
    List<PostChange> changesSince(long afterSeq, int limit);

    /** Returns the seq of the newest logged change, or 0 when none is logged. */
    long lastChange();

    /** Returns the number of posts. */
    long count();

    /** Runs a trivial query; throws {@link StoreUnavailableException} when the store cannot answer. */
    void ping();

    /** Releases the connections. */
    @Override
    void close();
}
