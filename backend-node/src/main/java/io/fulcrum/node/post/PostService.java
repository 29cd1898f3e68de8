package io.fulcrum.node.post;

import static java.util.Objects.requireNonNull;

import io.fulcrum.node.config.NodeLimitsConfig;
import io.fulcrum.node.store.ClientPosition;
import io.fulcrum.node.store.CreateResult;
import io.fulcrum.node.store.Post;
import io.fulcrum.node.store.PostStore;
import io.fulcrum.node.store.StoreHealth;
import io.fulcrum.node.store.StoreTopology;
import io.fulcrum.node.store.StoreWorkers;
import io.fulcrum.node.store.WriteResult;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The business rules of posts: validates input, then runs the store call on a {@link StoreWorkers}
 * thread and completes the returned future there. Validation failures complete the future with
 * {@link InvalidInputException} without touching the store. The {@link StoreTopology} picks the copy
 * that serves each call; the {@link ClientPosition} of a request carries the client's consistency
 * token in and the next one out.
 *
 * <p>Thread-safe; every method returns at once and never blocks, so it may be called from an event loop.
 */
public final class PostService {
    /** Longest accepted author name, in characters. */
    public static final int MAX_AUTHOR_CHARS = 64;
    /** Longest accepted {@code Idempotency-Key}, in characters. */
    public static final int MAX_IDEMPOTENCY_KEY_CHARS = 200;

    private final StoreTopology stores;
    private final StoreWorkers workers;
    private final NodeLimitsConfig limits;

    /** Creates the service over the single store {@code store}, running its calls on {@code workers}. */
    public PostService(PostStore store, StoreWorkers workers, NodeLimitsConfig limits) {
        this(StoreTopology.single(requireNonNull(store, "store")), workers, limits);
    }

    /** Creates the service over {@code stores}, running its calls on {@code workers}. */
    public PostService(StoreTopology stores, StoreWorkers workers, NodeLimitsConfig limits) {
        this.stores = requireNonNull(stores, "stores");
        this.workers = requireNonNull(workers, "workers");
        this.limits = requireNonNull(limits, "limits");
    }

    /** Creates a post; a repeated {@code idempotencyKey} (may be null) returns the first post instead. */
    public CompletableFuture<CreateResult> create(String author, String text, String idempotencyKey) {
        return create(author, text, idempotencyKey, ClientPosition.none());
    }

    /** Creates a post as {@link #create(String, String, String)}, recording the write in {@code position}. */
    public CompletableFuture<CreateResult> create(String author, String text, String idempotencyKey,
            ClientPosition position) {
        return ifValid(() -> {
            checkAuthor(author);
            checkText(text);
            if (idempotencyKey != null && (idempotencyKey.isBlank()
                    || idempotencyKey.length() > MAX_IDEMPOTENCY_KEY_CHARS)) {
                throw new InvalidInputException("Idempotency-Key",
                        "must be 1-" + MAX_IDEMPOTENCY_KEY_CHARS + " characters");
            }
        }, () -> {
            CompletableFuture<CreateResult> created = workers.write(
                    () -> stores.write(position, s -> s.create(author, text, idempotencyKey)));
            return idempotencyKey == null ? created : created.thenApply(result -> checkReplay(result, author, text));
        });
    }

    /**
     * The future {@code call} returns once {@code checks} pass; an {@link InvalidInputException} of
     * theirs fails the returned future instead of being thrown, as the store's failures do.
     */
    private static <T> CompletableFuture<T> ifValid(Runnable checks, Supplier<CompletableFuture<T>> call) {
        try {
            checks.run();
        } catch (InvalidInputException e) {
            return CompletableFuture.failedFuture(e);
        }
        return call.get();
    }

    /**
     * A replay must carry the body of the request that used the key first. The store keeps the post,
     * not that body, so the post stands in for it: the author never changes, and the text only by an
     * edit. Once the post was edited (version above 1) its first text is gone, and a replay is judged
     * by its author alone rather than refused for the edit.
     */
    private static CreateResult checkReplay(CreateResult result, String author, String text) {
        Post first = result.post();
        if (result.created()) {
            return result;
        }
        boolean same = first.author().equals(author) && (first.version() > 1 || first.text().equals(text));
        if (!same) {
            throw new IdempotencyKeyReusedException(first.id(), "this Idempotency-Key was used for post "
                    + first.id() + " with another body; send the same body to replay it, or use a new key");
        }
        return result;
    }

    /** Finds a post. */
    public CompletableFuture<Optional<Post>> get(long id) {
        return get(id, ClientPosition.none());
    }

    /** Finds a post in a copy holding at least what {@code position} requires. */
    public CompletableFuture<Optional<Post>> get(long id, ClientPosition position) {
        return workers.read(() -> stores.read(position, s -> s.find(id)));
    }

    /** Replaces a post's text; with {@code expectedVersion} only if the post is still at that version. */
    public CompletableFuture<WriteResult> update(long id, String text, OptionalLong expectedVersion) {
        return update(id, text, expectedVersion, ClientPosition.none());
    }

    /** Replaces a post's text as {@link #update(long, String, OptionalLong)}, recording it in {@code position}. */
    public CompletableFuture<WriteResult> update(long id, String text, OptionalLong expectedVersion,
            ClientPosition position) {
        return ifValid(() -> checkText(text),
                () -> workers.write(() -> stores.write(position, s -> s.update(id, text, expectedVersion))));
    }

    /** Deletes a post; with {@code expectedVersion} only if the post is still at that version. */
    public CompletableFuture<WriteResult> delete(long id, OptionalLong expectedVersion) {
        return delete(id, expectedVersion, ClientPosition.none());
    }

    /** Deletes a post as {@link #delete(long, OptionalLong)}, recording it in {@code position}. */
    public CompletableFuture<WriteResult> delete(long id, OptionalLong expectedVersion, ClientPosition position) {
        return workers.write(() -> stores.write(position, s -> s.delete(id, expectedVersion)));
    }

    /**
     * Returns a page of the timeline, newest first.
     *
     * @param author only this author's posts, or all when null
     * @param limit page size, or null for the configured default
     * @param cursor the previous page's {@code nextCursor}, or null for the newest page
     */
    public CompletableFuture<TimelinePage> timeline(String author, Integer limit, String cursor) {
        return timeline(author, limit, cursor, ClientPosition.none());
    }

    /** Returns a page of the timeline from a copy holding at least what {@code position} requires. */
    public CompletableFuture<TimelinePage> timeline(String author, Integer limit, String cursor,
            ClientPosition position) {
        long beforeId;
        int size;
        try {
            if (author != null) {
                checkAuthor(author);
            }
            size = limit == null ? limits.defaultTimelineLimit() : limit;
            if (size < 1 || size > limits.maxTimelineLimit()) {
                throw new InvalidInputException("limit", "must be 1-" + limits.maxTimelineLimit());
            }
            beforeId = cursor == null ? Long.MAX_VALUE : TimelineCursor.decode(cursor);
        } catch (InvalidInputException e) {
            return CompletableFuture.failedFuture(e);
        }
        // One extra row tells whether an older page exists, so the last page has no cursor.
        return workers.read(() -> stores.read(position, s -> s.timeline(author, beforeId, size + 1)))
                .thenApply(rows -> {
                    if (rows.size() <= size) {
                        return new TimelinePage(rows, null);
                    }
                    List<Post> page = rows.subList(0, size);
                    return new TimelinePage(page, TimelineCursor.encode(page.get(size - 1).id()));
                });
    }

    /** Completes normally when the store answers a trivial query. */
    public CompletableFuture<Void> ping() {
        return workers.read(() -> stores.read(ClientPosition.none(), s -> {
            s.ping();
            return null;
        }));
    }

    /** The replication state, empty without a replica. Never blocks. */
    public Optional<StoreHealth> storeHealth() {
        return stores.health();
    }

    private void checkAuthor(String author) {
        if (author == null || author.isBlank()) {
            throw new InvalidInputException("author", "must not be empty");
        }
        checkControls("author", author, false);
        if (author.length() > MAX_AUTHOR_CHARS) {
            throw new InvalidInputException("author", "must be at most " + MAX_AUTHOR_CHARS + " characters");
        }
    }

    private void checkText(String text) {
        if (text == null || text.isBlank()) {
            throw new InvalidInputException("text", "must not be empty");
        }
        if (text.codePointCount(0, text.length()) > limits.maxTextChars()) {
            throw new InvalidInputException("text", "must be at most " + limits.maxTextChars() + " characters");
        }
        checkControls("text", text, true);
    }

    /**
     * Refuses control characters (Unicode category Cc: U+0000-U+001F and U+007F-U+009F), which no
     * reader can see and which break logs, terminals and other clients; a text may keep newlines and
     * tabs, an author nothing. Carriage returns are refused too: line breaks are {@code \n}.
     */
    private static void checkControls(String field, String value, boolean allowLineBreaks) {
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (Character.getType(ch) != Character.CONTROL || (allowLineBreaks && (ch == '\n' || ch == '\t'))) {
                continue;
            }
            throw new InvalidInputException(field, String.format("must not contain control characters (U+%04X at "
                    + "character %d)%s", (int) ch, i + 1, allowLineBreaks ? "; only newline and tab are allowed" : ""));
        }
    }
}
