package io.fulcrum.testing;

import io.fulcrum.node.store.CreateResult;
import io.fulcrum.node.store.Post;
import io.fulcrum.node.store.PostStore;
import io.fulcrum.node.store.WriteResult;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real store whose creates wait for {@code release}, to hold a store worker (and the request it
 * serves) busy for as long as a test needs. Thread-safe, as the store it wraps.
 */
public final class BlockingCreateStore implements PostStore {
    private final PostStore delegate;
    private final CountDownLatch release;

    /** Wraps {@code delegate}; every create waits (at most 30 s) until {@code release} is counted down. */
    public BlockingCreateStore(PostStore delegate, CountDownLatch release) {
        this.delegate = delegate;
        this.release = release;
    }

    @Override
    public CreateResult create(String author, String text, String idempotencyKey) {
        try {
            if (!release.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("test never released the writer");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return delegate.create(author, text, idempotencyKey);
    }

    @Override
    public Optional<Post> find(long id) {
        return delegate.find(id);
    }

    @Override
    public WriteResult update(long id, String text, OptionalLong expectedVersion) {
        return delegate.update(id, text, expectedVersion);
    }

    @Override
    public WriteResult delete(long id, OptionalLong expectedVersion) {
        return delegate.delete(id, expectedVersion);
    }

    @Override
    public List<Post> timeline(String author, long beforeId, int limit) {
        return delegate.timeline(author, beforeId, limit);
    }

    @Override
    public List<io.fulcrum.node.store.PostChange> changesSince(long afterSeq, int limit) {
        return delegate.changesSince(afterSeq, limit);
    }

    @Override
    public long lastChange() {
        return delegate.lastChange();
    }

    @Override
    public long count() {
        return delegate.count();
    }

    @Override
    public void ping() {
        delegate.ping();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
