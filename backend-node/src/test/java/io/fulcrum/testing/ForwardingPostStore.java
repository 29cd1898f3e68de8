package io.fulcrum.testing;

import io.fulcrum.node.store.CreateResult;
import io.fulcrum.node.store.Post;
import io.fulcrum.node.store.PostChange;
import io.fulcrum.node.store.PostStore;
import io.fulcrum.node.store.WriteResult;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A real store with a test's behaviour in front of it: every call goes to the wrapped store, after
 * {@link #beforeCall()} (a failure to inject for every call, say); a subclass overrides one call to
 * change only that one. {@link #close()} always closes the wrapped store.
 *
 * <p>Thread-safe as the wrapped store and the subclass are.
 */
public class ForwardingPostStore implements PostStore {
    private final PostStore delegate;

    /** Wraps {@code delegate}. */
    public ForwardingPostStore(PostStore delegate) {
        this.delegate = delegate;
    }

    /** Runs before every call but {@link #close()}; does nothing unless overridden. */
    protected void beforeCall() {
    }

    @Override
    public CreateResult create(String author, String text, String idempotencyKey) {
        beforeCall();
        return delegate.create(author, text, idempotencyKey);
    }

    @Override
    public Optional<Post> find(long id) {
        beforeCall();
        return delegate.find(id);
    }

    @Override
    public WriteResult update(long id, String text, OptionalLong expectedVersion) {
        beforeCall();
        return delegate.update(id, text, expectedVersion);
    }

    @Override
    public WriteResult delete(long id, OptionalLong expectedVersion) {
        beforeCall();
        return delegate.delete(id, expectedVersion);
    }

    @Override
    public List<Post> timeline(String author, long beforeId, int limit) {
        beforeCall();
        return delegate.timeline(author, beforeId, limit);
    }

    @Override
    public List<PostChange> changesSince(long afterSeq, int limit) {
        beforeCall();
        return delegate.changesSince(afterSeq, limit);
    }

    @Override
    public long lastChange() {
        beforeCall();
        return delegate.lastChange();
    }

    @Override
    public long count() {
        beforeCall();
        return delegate.count();
    }

    @Override
    public void ping() {
        beforeCall();
        delegate.ping();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
