package io.fulcrum.balancer.exchange;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The admission queue on its own: arrival order, a lost race keeping its place, the bounded
 * length, a timeout or a cancellation passing its turn on, turns kept for later arrivals, and many
 * loops freeing slots and waiting at once without a turn ever getting lost.
 */
class AdmissionQueueTest {
    /** An event loop stand-in that keeps the turns handed to it, in order, until the test runs them. */
    private static final class Turns implements Executor {
        final List<Runnable> pending = new ArrayList<>();

        @Override
        public void execute(Runnable r) {
            pending.add(r);
        }

        Runnable take() {
            assertFalse(pending.isEmpty(), "a turn was handed out");
            return pending.remove(0);
        }
    }

    /** A waiter whose turn only records that it ran. */
    private record Waiter(String name, List<String> log) implements Runnable {
        @Override
        public void run() {
            log.add(name);
        }
    }

    private final Turns loop = new Turns();
    private final List<String> log = new ArrayList<>();
    private final AdmissionQueue queue = new AdmissionQueue();

    private AdmissionQueue.Ticket offer(String name, long now) {
        return queue.offer(100, loop, new Waiter(name, log), now);
    }

    private void runTurns() {
        while (!loop.pending.isEmpty()) {
            loop.take().run();
        }
    }

    @Test
    void freedSlotsGoToTheWaitersInArrivalOrder() {
        AdmissionQueue.Ticket a = offer("a", 0);
        AdmissionQueue.Ticket b = offer("b", 1);
        AdmissionQueue.Ticket c = offer("c", 2);
        // The first waiter of an empty queue gets a turn at once: a slot freed just before it came
        // found nobody to give it to.
        runTurns();
        assertEquals(List.of("a"), log);
        assertEquals(10, queue.won(a, 10));

        queue.slotFreed();
        queue.slotFreed();
        runTurns();
        assertEquals(List.of("a", "b", "c"), log);
        queue.won(b, 11);
        queue.won(c, 12);
        assertEquals(0, queue.length());
        assertTrue(queue.isEmpty());
        assertEquals(3, queue.queued());
    }

    @Test
    void aWaiterThatLosesTheRaceKeepsItsPlaceAtTheFront() {
        AdmissionQueue.Ticket a = offer("a", 0);
        offer("b", 0);
        runTurns();
        queue.lost(a);

        queue.slotFreed();
        runTurns();
        assertEquals(List.of("a", "a"), log, "the oldest gets the next turn again, not the one behind it");
        queue.won(a, 5);
        queue.slotFreed();
        runTurns();
        assertEquals(List.of("a", "a", "b"), log);
    }

    @Test
    void theLengthIsBoundedAndARefusalCounted() {
        assertNotNull(queue.offer(2, loop, () -> { }, 0));
        AdmissionQueue.Ticket second = queue.offer(2, loop, () -> { }, 0);
        assertNotNull(second);
        assertNull(queue.offer(2, loop, () -> { }, 0), "a third waiter finds the queue full");
        assertEquals(1, queue.refusedFull());
        assertEquals(2, queue.length());

        queue.leave(second, AdmissionQueue.Exit.CANCELLED, 1);
        assertNotNull(queue.offer(2, loop, () -> { }, 1), "room again once one left");
        assertNull(queue.offer(0, loop, () -> { }, 1), "a length of 0 queues nothing");
    }

    @Test
    void aWaiterWhoseWaitRunsOutLeavesIsCountedAndPassesItsTurnOn() {
        List<Long> waits = new ArrayList<>();
        queue.recordWaitsTo(waits::add);
        AdmissionQueue.Ticket a = offer("a", 100);
        offer("b", 200);
        assertEquals(1, loop.pending.size(), "a is on its turn");

        assertEquals(400, queue.leave(a, AdmissionQueue.Exit.TIMEOUT, 500));
        runTurns();
        assertEquals(List.of("a", "b"), log, "the turn a had is b's now: the freed slot is not lost");
        assertEquals(1, queue.timedOut());
        assertEquals(List.of(400L), waits);
        assertEquals(-1, queue.leave(a, AdmissionQueue.Exit.TIMEOUT, 600), "leaving twice does nothing");
        assertEquals(1, queue.timedOut());
        assertEquals(1, queue.length());
    }

    @Test
    void aCancelledWaiterGetsNoTurn() {
        AdmissionQueue.Ticket a = offer("a", 0);
        AdmissionQueue.Ticket b = offer("b", 0);
        offer("c", 0);
        runTurns();
        queue.lost(a);
        queue.leave(b, AdmissionQueue.Exit.CANCELLED, 1);

        queue.slotFreed();
        queue.slotFreed();
        runTurns();
        assertEquals(List.of("a", "a", "c"), log);
        assertEquals(0, queue.timedOut(), "a cancellation is no timeout");
    }

    @Test
    void aSlotFreedWhileEveryWaiterIsOnItsTurnIsKeptForTheNextArrival() {
        offer("a", 0);
        queue.slotFreed();
        assertEquals(1, loop.pending.size(), "nobody else to give it to");

        offer("b", 1);
        runTurns();
        assertEquals(List.of("a", "b"), log, "b got the slot freed before it came");
    }

    @Test
    void aSlotFreedOnAnEmptyQueueIsNotKept() {
        queue.slotFreed();
        queue.slotsFreed(10);
        AdmissionQueue.Ticket a = offer("a", 0);
        offer("b", 0);
        runTurns();
        queue.lost(a);
        runTurns();
        assertEquals(List.of("a"), log, "only the first waiter's own turn");
    }

    @Test
    void roomFromANewSnapshotGivesThatManyTurns() {
        AdmissionQueue.Ticket a = offer("a", 0);
        offer("b", 0);
        offer("c", 0);
        offer("d", 0);
        runTurns();
        queue.lost(a);

        queue.slotsFreed(3);
        runTurns();
        assertEquals(List.of("a", "a", "b", "c"), log);
    }

    /**
     * Several loops run clients against a pool of a few slots, each client sending its next
     * request when the last one was served: a request takes a slot at once when nobody waits, else
     * waits; a request in flight ends a moment later on some loop and frees its slot there. The
     * queue empties and fills again all the time, and with no timeout to rescue a forgotten waiter
     * every client must still finish: no turn is lost between a slot freed on one loop and a
     * waiter queued on another (a lost one leaves every client queued behind it, nothing in flight).
     */
    @ParameterizedTest(name = "{0} slot(s), {1} clients")
    @CsvSource({"1, 2", "2, 3", "3, 24"})
    void loopsFreeingSlotsAndWaitingAtOnceServeEveryRequest(int slots, int clients) throws Exception {
        int loops = 4;
        int perClient = 6000 / clients;
        ScheduledExecutorService[] executors = new ScheduledExecutorService[loops];
        for (int i = 0; i < loops; i++) {
            executors[i] = Executors.newSingleThreadScheduledExecutor();
        }
        try {
            AtomicInteger inFlight = new AtomicInteger();
            AtomicInteger maxInFlight = new AtomicInteger();
            AtomicInteger served = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            AtomicLong clock = new AtomicLong();

            class Client implements Runnable {
                final ScheduledExecutorService loop;
                final SplittableRandom random;
                int left = perClient;
                AdmissionQueue.Ticket ticket;

                Client(ScheduledExecutorService loop, long seed) {
                    this.loop = loop;
                    this.random = new SplittableRandom(seed);
                }

                boolean tryAcquire() {
                    while (true) {
                        int n = inFlight.get();
                        if (n >= slots) {
                            return false;
                        }
                        if (inFlight.compareAndSet(n, n + 1)) {
                            maxInFlight.accumulateAndGet(n + 1, Math::max);
                            return true;
                        }
                    }
                }

                /** The next request; on this client's loop. */
                void send() {
                    if (queue.isEmpty() && tryAcquire()) {
                        start();
                        return;
                    }
                    ticket = queue.offer(Integer.MAX_VALUE, loop, this, clock.incrementAndGet());
                    if (ticket == null) {
                        refused.incrementAndGet();
                    }
                }

                /** A turn: on this client's loop. */
                @Override
                public void run() {
                    if (ticket == null) {
                        return;
                    }
                    if (tryAcquire()) {
                        queue.won(ticket, clock.incrementAndGet());
                        ticket = null;
                        start();
                    } else {
                        queue.lost(ticket);
                    }
                }

                void start() {
                    // Ends on some loop after a moment, where the slot is freed.
                    ScheduledExecutorService ender = executors[random.nextInt(loops)];
                    ender.schedule(() -> {
                        inFlight.decrementAndGet();
                        served.incrementAndGet();
                        queue.slotFreed();
                        loop.execute(() -> {
                            if (--left > 0) {
                                send();
                            }
                        });
                    }, random.nextInt(100), TimeUnit.MICROSECONDS);
                }
            }

            for (int i = 0; i < clients; i++) {
                Client c = new Client(executors[i % loops], i);
                c.loop.execute(c::send);
            }

            await().atMost(Duration.ofSeconds(30)).until(() -> served.get() == clients * perClient);
            assertEquals(0, refused.get());
            assertTrue(maxInFlight.get() <= slots, "never more than the slots: " + maxInFlight.get());
            assertEquals(0, queue.length());
            assertEquals(0, inFlight.get());
        } finally {
            for (ScheduledExecutorService e : executors) {
                e.shutdownNow();
            }
        }
    }
}
