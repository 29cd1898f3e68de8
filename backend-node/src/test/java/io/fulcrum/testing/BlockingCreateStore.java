package io.fulcrum.testing;

import io.fulcrum.node.store.CreateResult;
import io.fulcrum.node.store.PostStore;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A real store whose creates wait for {@code release}, to hold a store worker (and the request it
 * serves) busy for as long as a test needs. Thread-safe, as the store it wraps.
 */
public final class BlockingCreateStore extends ForwardingPostStore {
    private final CountDownLatch release;

    /** Wraps {@code delegate}; every create waits (at most 30 s) until {@code release} is counted down. */
    public BlockingCreateStore(PostStore delegate, CountDownLatch release) {
        super(delegate);
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
        return super.create(author, text, idempotencyKey);
    }
}
