package io.fulcrum.node.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.node.config.NodeLimitsConfig;
import io.fulcrum.node.post.PostService;
import io.fulcrum.node.post.TimelinePage;
import io.fulcrum.testing.TestClock;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link PostStore} must have, run against each engine by a subclass that says
 * how to open a store on an empty database.
 */
abstract class PostStoreContract {
    protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private PostStore store;
    private ExecutorService threads;

    /** Opens a store on an empty database (the same database on every call within one test). */
    protected abstract PostStore openStore(Clock clock);

    /** Empties the database before each test; called before the first {@link #openStore} of a test. */
    protected void resetDatabase() throws Exception {
    }

    @BeforeEach
    void open() throws Exception {
        resetDatabase();
        store = openStore(new TestClock(T0));
        threads = Executors.newFixedThreadPool(8);
    }

    @AfterEach
    void closeStore() throws InterruptedException {
        if (threads != null) {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(10, TimeUnit.SECONDS));
        }
        if (store != null) {
            store.close();
        }
    }

    @Test
    void createdPostIsFoundWithVersionOneAndTimestamps() {
        CreateResult r = store.create("frank", "hello", null);
        assertTrue(r.created());
        Post p = r.post();
        assertEquals("frank", p.author());
        assertEquals("hello", p.text());
        assertEquals(1, p.version());
        assertEquals(T0, p.createdAt());
        assertEquals(p.createdAt(), p.updatedAt());
        assertEquals(Optional.of(p), store.find(p.id()));
    }

    @Test
    void everyCommittedChangeIsLoggedInOrderWithThePostAsItIsNow() {
        long before = store.lastChange();
        assertTrue(store.changesSince(before, 10).isEmpty());
        Post a = store.create("ann", "first", null).post();
        Post b = store.create("bob", "second", "key-1").post();
        assertFalse(store.create("bob", "second", "key-1").created(), "a replay");
        store.update(a.id(), "first, edited", OptionalLong.empty());
        store.update(b.id(), "stale", OptionalLong.of(7));
        store.delete(b.id(), OptionalLong.empty());

        List<PostChange> changes = store.changesSince(before, 10);
        // The replay and the refused edit changed nothing, so they logged nothing.
        assertEquals(List.of(a.id(), b.id(), a.id(), b.id()),
                changes.stream().map(PostChange::postId).collect(Collectors.toList()));
        for (int i = 1; i < changes.size(); i++) {
            assertTrue(changes.get(i).seq() > changes.get(i - 1).seq(), changes.toString());
        }
        assertEquals("first, edited", changes.get(0).post().text(), "the post as it is now");
        assertEquals(2, changes.get(2).post().version());
        assertTrue(changes.get(1).deleted() && changes.get(3).deleted(), "b is gone");
        assertEquals(changes.get(3).seq(), store.lastChange());
        assertEquals(changes.subList(2, 4), store.changesSince(changes.get(1).seq(), 10));
        assertEquals(changes.subList(0, 1), store.changesSince(before, 1));
    }

    @Test
    void unknownIdIsNotFound() {
        assertEquals(Optional.empty(), store.find(424242));
    }

    @Test
    void textKeepsUnicodeAndNewlines() {
        String text = "line one\nline two: caf\u00e9 \ud83d\ude80 \"quoted\"";
        Post p = store.create("zo\u00e9", text, null).post();
        assertEquals(text, store.find(p.id()).orElseThrow().text());
        assertEquals("zo\u00e9", store.find(p.id()).orElseThrow().author());
    }

    @Test
    void repeatedIdempotencyKeyReturnsTheOriginalAndCreatesNothing() {
        Post first = store.create("frank", "hello", "key-1").post();
        CreateResult again = store.create("frank", "hello", "key-1");
        assertFalse(again.created());
        assertEquals(first, again.post());
        assertEquals(1, store.count());
        assertTrue(store.create("frank", "hello", "key-2").created());
        assertEquals(2, store.count());
    }

    @Test
    void concurrentCreatesWithOneKeyCreateExactlyOnePost() throws Exception {
        int racers = 8;
        CountDownLatch go = new CountDownLatch(1);
        List<Future<CreateResult>> results = new ArrayList<>();
        for (int i = 0; i < racers; i++) {
            results.add(threads.submit(() -> {
                go.await(10, TimeUnit.SECONDS);
                return store.create("frank", "once", "same-key");
            }));
        }
        go.countDown();
        Set<Long> ids = new HashSet<>();
        int created = 0;
        for (Future<CreateResult> f : results) {
            CreateResult r = f.get(30, TimeUnit.SECONDS);
            ids.add(r.post().id());
            created += r.created() ? 1 : 0;
        }
        assertEquals(1, ids.size());
        assertEquals(1, created);
        assertEquals(1, store.count());
    }

    @Test
    void updateReplacesTextBumpsVersionAndKeepsAuthorAndCreation() {
        Post p = store.create("frank", "v1", null).post();
        WriteResult r = store.update(p.id(), "v2", OptionalLong.of(1));
        assertEquals(WriteResult.Status.DONE, r.status());
        Post after = store.find(p.id()).orElseThrow();
        assertEquals(after, r.post());
        assertEquals("v2", after.text());
        assertEquals(2, after.version());
        assertEquals("frank", after.author());
        assertEquals(p.createdAt(), after.createdAt());
        assertTrue(after.updatedAt().isAfter(p.updatedAt()));
        assertEquals(3, store.update(p.id(), "v3", OptionalLong.empty()).post().version());
    }

    @Test
    void updateWithStaleVersionChangesNothing() {
        Post p = store.create("frank", "v1", null).post();
        store.update(p.id(), "v2", OptionalLong.empty());
        WriteResult r = store.update(p.id(), "lost", OptionalLong.of(1));
        assertEquals(WriteResult.Status.VERSION_MISMATCH, r.status());
        assertEquals(2, r.post().version());
        assertEquals("v2", store.find(p.id()).orElseThrow().text());
    }

    @Test
    void concurrentEditsOfOneVersionLetExactlyOneWin() throws Exception {
        Post p = store.create("frank", "v1", null).post();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<WriteResult>> results = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String text = "edit " + i;
            results.add(threads.submit(() -> {
                go.await(10, TimeUnit.SECONDS);
                return store.update(p.id(), text, OptionalLong.of(1));
            }));
        }
        go.countDown();
        int done = 0;
        for (Future<WriteResult> f : results) {
            WriteResult r = f.get(30, TimeUnit.SECONDS);
            if (r.status() == WriteResult.Status.DONE) {
                done++;
            } else {
                assertEquals(WriteResult.Status.VERSION_MISMATCH, r.status());
            }
        }
        assertEquals(1, done);
        assertEquals(2, store.find(p.id()).orElseThrow().version());
    }

    @Test
    void updateOfUnknownIdIsNotFound() {
        assertEquals(WriteResult.Status.NOT_FOUND, store.update(99, "x", OptionalLong.empty()).status());
        assertEquals(0, store.count());
    }

    @Test
    void deleteRemovesThePostOnlyAtTheExpectedVersion() {
        Post p = store.create("frank", "bye", null).post();
        assertEquals(WriteResult.Status.VERSION_MISMATCH, store.delete(p.id(), OptionalLong.of(7)).status());
        assertTrue(store.find(p.id()).isPresent());
        WriteResult r = store.delete(p.id(), OptionalLong.of(1));
        assertEquals(WriteResult.Status.DONE, r.status());
        assertEquals(p, r.post());
        assertEquals(Optional.empty(), store.find(p.id()));
        assertEquals(WriteResult.Status.NOT_FOUND, store.delete(p.id(), OptionalLong.empty()).status());
    }

    @Test
    void timelineIsNewestFirstAndFiltersByAuthor() {
        for (int i = 0; i < 6; i++) {
            store.create(i % 2 == 0 ? "ann" : "bob", "post " + i, null);
        }
        List<String> all = texts(store.timeline(null, Long.MAX_VALUE, 10));
        assertEquals(List.of("post 5", "post 4", "post 3", "post 2", "post 1", "post 0"), all);
        assertEquals(List.of("post 4", "post 2", "post 0"), texts(store.timeline("ann", Long.MAX_VALUE, 10)));
        assertEquals(List.of("post 5", "post 4"), texts(store.timeline(null, Long.MAX_VALUE, 2)));
        assertEquals(List.of(), store.timeline("nobody", Long.MAX_VALUE, 10));
    }

    @Test
    void keysetPagingNeitherSkipsNorRepeatsWhileOthersInsert() throws Exception {
        List<Long> existing = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            existing.add(store.create(i % 3 == 0 ? "ann" : "bob", "old " + i, null).post().id());
        }
        try (StoreWorkers workers = StoreWorkers.shared("paging", 2, 64)) {
            PostService service = new PostService(store, workers, NodeLimitsConfig.DEFAULTS);
            CountDownLatch writerStarted = new CountDownLatch(1);
            Future<Integer> writer = threads.submit((Callable<Integer>) () -> {
                writerStarted.countDown();
                for (int i = 0; i < 60; i++) {
                    store.create("bob", "new " + i, null);
                }
                return 60;
            });
            assertTrue(writerStarted.await(10, TimeUnit.SECONDS));
            List<Long> seen = new ArrayList<>();
            String cursor = null;
            int pages = 0;
            do {
                TimelinePage page = service.timeline(null, 7, cursor).get(30, TimeUnit.SECONDS);
                page.posts().forEach(p -> seen.add(p.id()));
                cursor = page.nextCursor();
                pages++;
            } while (cursor != null && pages < 100);
            assertEquals(60, writer.get(30, TimeUnit.SECONDS));

            assertEquals(seen.size(), new HashSet<>(seen).size(), "a post was repeated: " + seen);
            assertTrue(seen.containsAll(existing), "a post that existed before paging was skipped");
            for (int i = 1; i < seen.size(); i++) {
                assertTrue(seen.get(i) < seen.get(i - 1), "not newest first: " + seen);
            }
        }
    }

    @Test
    void postsSurviveReopeningTheStore() {
        Post p = store.create("frank", "durable", "durable-key").post();
        store.close();
        store = openStore(Clock.systemUTC());
        assertEquals(Optional.of(p), store.find(p.id()));
        assertFalse(store.create("frank", "durable", "durable-key").created());
        assertNotEquals(p.id(), store.create("frank", "second", null).post().id());
    }

    @Test
    void closedStoreReportsUnavailable() {
        store.ping();
        store.close();
        assertThrows(StoreUnavailableException.class, store::ping);
        assertThrows(StoreUnavailableException.class, () -> store.create("frank", "x", null));
        store = openStore(Clock.systemUTC());
    }

    private static List<String> texts(List<Post> posts) {
        return posts.stream().map(Post::text).collect(Collectors.toList());
    }
}
