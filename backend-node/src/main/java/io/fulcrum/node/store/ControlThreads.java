package io.fulcrum.node.store;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * How the node's control threads (the live feed's poller, the replication checks) end when their
 * owner closes: interrupted at once, with a bounded wait for the task in progress.
 *
 * <p>Stateless and thread-safe.
 */
public final class ControlThreads {
    private ControlThreads() {
    }

    /**
     * Stops {@code threads} now and waits up to 5 s for them to end; an interrupt of the caller ends
     * the wait and is kept.
     */
    public static void stop(ExecutorService threads) {
        threads.shutdownNow();
        try {
            threads.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
