package io.fulcrum.node.store;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import javax.sql.DataSource;

/**
 * The {@link PostStore} over JDBC, for every engine: the statements are shared and a
 * {@link SqlDialect} supplies what differs. Writes use the {@code writes} data source, reads the
 * {@code reads} one (for SQLite a single writer connection and a pool of readers; for PostgreSQL the
 * same pool twice).
 *
 * <p>Thread-safe; every method blocks and must run on a store worker, never on an event loop.
 */
public final class JdbcPostStore implements PostStore {
    private static final String COLUMNS = "id, author, text, version, created_at, updated_at";
    /** How many of the newest changes the log keeps; each write prunes what falls out. */
    static final int RETAINED_CHANGES = 10_000;

    private final SqlDialect dialect;
    private final DataSource writes;
    private final DataSource reads;
    private final Clock clock;
    private final AutoCloseable resources;

    /**
     * Creates a store.
     *
     * @param resources closed by {@link #close()}: the pools behind the data sources
     */
    public JdbcPostStore(SqlDialect dialect, DataSource writes, DataSource reads, Clock clock,
            AutoCloseable resources) {
        this.dialect = requireNonNull(dialect, "dialect");
        this.writes = requireNonNull(writes, "writes");
        this.reads = requireNonNull(reads, "reads");
        this.clock = requireNonNull(clock, "clock");
        this.resources = requireNonNull(resources, "resources");
    }

    @Override
    public CreateResult create(String author, String text, String idempotencyKey) {
        try {
            return inTransaction(c -> {
                if (idempotencyKey != null) {
                    Optional<Post> earlier = findByKey(c, idempotencyKey);
                    if (earlier.isPresent()) {
                        return new CreateResult(earlier.get(), false);
                    }
                }
                long now = clock.millis();
                try (PreparedStatement st = c.prepareStatement("INSERT INTO posts "
                        + "(author, text, version, created_at, updated_at, idempotency_key) "
                        + "VALUES (?, ?, 1, ?, ?, ?) RETURNING id")) {
                    st.setString(1, author);
                    st.setString(2, text);
                    st.setLong(3, now);
                    st.setLong(4, now);
                    st.setString(5, idempotencyKey);
                    long id;
                    try (ResultSet rs = st.executeQuery()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                    logChange(c, id, false, now);
                    Instant at = Instant.ofEpochMilli(now);
                    return new CreateResult(new Post(id, author, text, 1, at, at), true);
                }
            });
        } catch (SQLException e) {
            if (idempotencyKey != null && dialect.isUniqueViolation(e)) {
                // Another node committed the same key between our check and our insert: theirs wins.
                Optional<Post> winner = read(c -> findByKey(c, idempotencyKey));
                if (winner.isPresent()) {
                    return new CreateResult(winner.get(), false);
                }
            }
            throw unavailable("create", e);
        }
    }

    @Override
    public Optional<Post> find(long id) {
        return read(c -> findById(c, id));
    }

    @Override
    public WriteResult update(long id, String text, OptionalLong expectedVersion) {
        return writeAtVersion("update", id, expectedVersion, (c, before) -> {
            long now = clock.millis();
            try (PreparedStatement st = c.prepareStatement(
                    "UPDATE posts SET text = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?")) {
                st.setString(1, text);
                st.setLong(2, now);
                st.setLong(3, id);
                st.setLong(4, before.version());
                if (st.executeUpdate() == 0) {
                    return Optional.empty();
                }
            }
            logChange(c, id, false, now);
            return Optional.of(new WriteResult(WriteResult.Status.DONE, new Post(id, before.author(), text,
                    before.version() + 1, before.createdAt(), Instant.ofEpochMilli(now))));
        });
    }

    @Override
    public WriteResult delete(long id, OptionalLong expectedVersion) {
        return writeAtVersion("delete", id, expectedVersion, (c, before) -> {
            try (PreparedStatement st = c.prepareStatement("DELETE FROM posts WHERE id = ? AND version = ?")) {
                st.setLong(1, id);
                st.setLong(2, before.version());
                if (st.executeUpdate() == 0) {
                    return Optional.empty();
                }
            }
            logChange(c, id, true, clock.millis());
            return Optional.of(new WriteResult(WriteResult.Status.DONE, before));
        });
    }

    @Override
    public List<Post> timeline(String author, long beforeId, int limit) {
        String sql = "SELECT " + COLUMNS + " FROM posts WHERE id < ?"
                + (author == null ? "" : " AND author = ?") + " ORDER BY id DESC LIMIT ?";
        return read(c -> {
            try (PreparedStatement st = c.prepareStatement(sql)) {
                int i = 1;
                st.setLong(i++, beforeId);
                if (author != null) {
                    st.setString(i++, author);
                }
                st.setInt(i, limit);
                try (ResultSet rs = st.executeQuery()) {
                    List<Post> posts = new ArrayList<>();
                    while (rs.next()) {
                        posts.add(toPost(rs, 1));
                    }
                    return posts;
                }
            }
        });
    }

    @Override
    public List<PostChange> changesSince(long afterSeq, int limit) {
        // LEFT JOIN: a change whose post is gone by now reads as a delete.
        String sql = "SELECT c.seq, c.post_id, p." + COLUMNS.replace(", ", ", p.")
                + " FROM post_changes c LEFT JOIN posts p ON p.id = c.post_id WHERE c.seq > ? ORDER BY c.seq LIMIT ?";
        return read(c -> {
            try (PreparedStatement st = c.prepareStatement(sql)) {
                st.setLong(1, afterSeq);
                st.setInt(2, limit);
                try (ResultSet rs = st.executeQuery()) {
                    List<PostChange> changes = new ArrayList<>();
                    while (rs.next()) {
                        rs.getLong(3);
                        Post post = rs.wasNull() ? null : toPost(rs, 3);
                        changes.add(new PostChange(rs.getLong(1), rs.getLong(2), post));
                    }
                    return changes;
                }
            }
        });
    }

    @Override
    public long lastChange() {
        return readLong("SELECT COALESCE(MAX(seq), 0) FROM post_changes");
    }

    @Override
    public long count() {
        return readLong("SELECT COUNT(*) FROM posts");
    }

    @Override
    public void ping() {
        readLong("SELECT 1");
    }

    @Override
    public void close() {
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the store failed", e);
        }
    }

    private <T> T inTransaction(SqlWork<T> work) throws SQLException {
        try (Connection c = writes.getConnection()) {
            dialect.beginWrite(c);
            T result;
            try {
                result = work.run(c);
            } catch (SQLException | RuntimeException e) {
                try {
                    dialect.rollback(c);
                } catch (SQLException rollbackFailure) {
                    e.addSuppressed(rollbackFailure);
                }
                throw e;
            }
            dialect.commit(c);
            return result;
        }
    }

    private <T> T read(SqlWork<T> work) {
        try (Connection c = reads.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw unavailable("read", e);
        }
    }

    /** The one number that {@code sql} selects. */
    private long readLong(String sql) {
        return read(c -> {
            try (PreparedStatement st = c.prepareStatement(sql);
                    ResultSet rs = st.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /**
     * Runs {@code write}, in one transaction, on the post as it is, when it exists and is at
     * {@code expectedVersion} (if given). A write that finds the row changed since it was read (by a
     * concurrent transaction, PostgreSQL READ COMMITTED) returns empty, and the answer is then the post
     * as it is now, or not found.
     */
    private WriteResult writeAtVersion(String what, long id, OptionalLong expectedVersion, VersionedWrite write) {
        try {
            return inTransaction(c -> {
                Optional<Post> current = findById(c, id);
                if (current.isEmpty()) {
                    return WriteResult.notFound();
                }
                Post before = current.get();
                if (expectedVersion.isPresent() && expectedVersion.getAsLong() != before.version()) {
                    return new WriteResult(WriteResult.Status.VERSION_MISMATCH, before);
                }
                Optional<WriteResult> done = write.apply(c, before);
                if (done.isPresent()) {
                    return done.get();
                }
                return findById(c, id).map(p -> new WriteResult(WriteResult.Status.VERSION_MISMATCH, p))
                        .orElseGet(WriteResult::notFound);
            });
        } catch (SQLException e) {
            throw unavailable(what, e);
        }
    }

    /** Logs a change inside the write's transaction, and prunes the oldest changes past the ones kept. */
    private void logChange(Connection c, long postId, boolean deleted, long now) throws SQLException {
        dialect.lockChangeLog(c);
        try (PreparedStatement st = c.prepareStatement(
                "INSERT INTO post_changes (post_id, deleted, changed_at) VALUES (?, ?, ?)")) {
            st.setLong(1, postId);
            st.setInt(2, deleted ? 1 : 0);
            st.setLong(3, now);
            st.executeUpdate();
        }
        // A primary-key range below the newest seq: usually nothing, else the one row that fell out.
        try (PreparedStatement st = c.prepareStatement(
                "DELETE FROM post_changes WHERE seq <= (SELECT MAX(seq) FROM post_changes) - ?")) {
            st.setLong(1, RETAINED_CHANGES);
            st.executeUpdate();
        }
    }

    private static Optional<Post> findById(Connection c, long id) throws SQLException {
        return findOne(c, "id = ?", st -> st.setLong(1, id));
    }

    private static Optional<Post> findByKey(Connection c, String key) throws SQLException {
        return findOne(c, "idempotency_key = ?", st -> st.setString(1, key));
    }

    /** The post that {@code where}, its parameter set by {@code bind}, selects, if any. */
    private static Optional<Post> findOne(Connection c, String where, SqlBinding bind) throws SQLException {
        try (PreparedStatement st = c.prepareStatement("SELECT " + COLUMNS + " FROM posts WHERE " + where)) {
            bind.bind(st);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? Optional.of(toPost(rs, 1)) : Optional.empty();
            }
        }
    }

    /** The post in the {@link #COLUMNS} of {@code rs}'s current row, starting at column {@code first}. */
    private static Post toPost(ResultSet rs, int first) throws SQLException {
        return new Post(rs.getLong(first), rs.getString(first + 1), rs.getString(first + 2), rs.getLong(first + 3),
                Instant.ofEpochMilli(rs.getLong(first + 4)), Instant.ofEpochMilli(rs.getLong(first + 5)));
    }

    private StoreUnavailableException unavailable(String what, SQLException e) {
        return new StoreUnavailableException(dialect.name() + " " + what + " failed: " + e.getMessage(), e);
    }

    @FunctionalInterface
    private interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** A write on a post read at its current version; empty when no row was at that version any more. */
    @FunctionalInterface
    private interface VersionedWrite {
        Optional<WriteResult> apply(Connection c, Post before) throws SQLException;
    }

    @FunctionalInterface
    private interface SqlBinding {
        void bind(PreparedStatement st) throws SQLException;
    }
}
