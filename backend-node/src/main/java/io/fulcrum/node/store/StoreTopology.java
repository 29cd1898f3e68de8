package io.fulcrum.node.store;

import java.util.Optional;
import java.util.function.Function;

/**
 * Which copy of the posts serves each call: writes always go to the one writable store (the primary),
 * reads to the node's replica when it is fresh enough for the client, else to the primary. A node over
 * SQLite, or over PostgreSQL without a replica, has a single store that serves everything.
 *
 * <p>Both methods block (a read may wait, bounded, for the replica to catch up with the client), so they
 * run on a store worker, never on an event loop. Implementations are thread-safe.
 */
public interface StoreTopology extends AutoCloseable {
    /**
     * Runs {@code work} on a store holding everything {@code position} requires and records in
     * {@code position} what the answer reflects.
     *
     * @throws StoreUnavailableException when no copy that may serve it can be reached
     */
    <T> T read(ClientPosition position, Function<PostStore, T> work);

    /**
     * Runs {@code work} on the writable store and records in {@code position} the primary's position
     * after it.
     *
     * @throws PrimaryUnavailableException when the primary is down (at once when already known)
     */
    <T> T write(ClientPosition position, Function<PostStore, T> work);

    /** The replication state for {@code /health}; empty without a replica. Never blocks. */
    Optional<StoreHealth> health();

    /** Stops the checks and closes the stores. */
    @Override
    void close();

    /** A topology of one store serving reads and writes alike, without positions. */
    static StoreTopology single(PostStore store) {
        return new SingleStore(store);
    }

    /** The single-store topology. Thread-safe. */
    final class SingleStore implements StoreTopology {
        private final PostStore store;

        private SingleStore(PostStore store) {
            this.store = java.util.Objects.requireNonNull(store, "store");
        }

        @Override
        public <T> T read(ClientPosition position, Function<PostStore, T> work) {
            return work.apply(store);
        }

        @Override
        public <T> T write(ClientPosition position, Function<PostStore, T> work) {
            return work.apply(store);
        }

        @Override
        public Optional<StoreHealth> health() {
            return Optional.empty();
        }

        @Override
        public void close() {
            store.close();
        }
    }
}
