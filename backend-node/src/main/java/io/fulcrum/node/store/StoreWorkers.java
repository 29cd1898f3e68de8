package io.fulcrum.node.store;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The bounded thread pools that run every JDBC call, so no event loop ever blocks on the store.
 *
 * <p>Each pool has a fixed number of threads (one per pooled connection) and a bounded queue. When the
 * queue is full the call is refused at once with {@link StoreOverloadedException} (the HTTP layer
 * answers 503) rather than queued without bound. For SQLite, writes go to a single writer thread,
 * since SQLite admits one writer at a time, and reads to {@code pool-size} reader threads; for
 * PostgreSQL one pool runs both, or two when the node reads from a replica.
 *
 * <p>Thread-safe.
 */
public final class StoreWorkers implements AutoCloseable {
    private final ThreadPoolExecutor writes;
    private final ThreadPoolExecutor reads;
    private final int queueCapacity;

    private StoreWorkers(ThreadPoolExecutor writes, ThreadPoolExecutor reads, int queueCapacity) {
        this.writes = writes;
        this.reads = reads;
        this.queueCapacity = queueCapacity;
    }

    /** One writer thread and {@code readers} reader threads, each pool with its own bounded queue. */
    public static StoreWorkers split(String nodeId, int readers, int queueCapacity) {
        return new StoreWorkers(pool(nodeId + "-store-writer", 1, queueCapacity),
                pool(nodeId + "-store-reader", readers, queueCapacity), queueCapacity);
    }

    /**
     * {@code writers} writer threads and {@code readers} reader threads (a primary and a replica): reads
     * keep their own threads while writes to an unreachable primary fail or wait.
     */
    public static StoreWorkers separate(String nodeId, int writers, int readers, int queueCapacity) {
        return new StoreWorkers(pool(nodeId + "-store-writer", writers, queueCapacity),
                pool(nodeId + "-store-reader", readers, queueCapacity), queueCapacity);
    }

    /** One pool of {@code threads} threads running reads and writes alike. */
    public static StoreWorkers shared(String nodeId, int threads, int queueCapacity) {
        ThreadPoolExecutor pool = pool(nodeId + "-store", threads, queueCapacity);
        return new StoreWorkers(pool, pool, queueCapacity);
    }

    /** Runs a write on the writer pool, or fails at once with {@link StoreOverloadedException}. */
    public <T> CompletableFuture<T> write(Supplier<T> work) {
        return submit(writes, "writer", work);
    }

    /** Runs a read on the reader pool, or fails at once with {@link StoreOverloadedException}. */
    public <T> CompletableFuture<T> read(Supplier<T> work) {
        return submit(reads, "reader", work);
    }

    /** Store calls now running or waiting, over all pools. */
    public int inFlight() {
        int n = 0;
        for (ThreadPoolExecutor p : pools()) {
            n += p.getActiveCount() + p.getQueue().size();
        }
        return n;
    }

    /**
     * The node's load in [0, 1]: for the busiest pool, calls running or waiting over what it can hold
     * (threads plus queue). 1 means the next call of that kind would be refused.
     */
    public double load() {
        double max = 0;
        for (ThreadPoolExecutor p : pools()) {
            double capacity = p.getMaximumPoolSize() + queueCapacity;
            max = Math.max(max, (p.getActiveCount() + p.getQueue().size()) / capacity);
        }
        return Math.min(1.0, max);
    }

    /** Waiting calls in the write queue (for metrics). */
    public int queuedWrites() {
        return writes.getQueue().size();
    }

    /** Waiting calls in the read queue (for metrics; the same as writes when the pool is shared). */
    public int queuedReads() {
        return reads.getQueue().size();
    }

    /** Stops accepting work and waits briefly for running calls to finish. */
    @Override
    public void close() {
        for (ThreadPoolExecutor p : pools()) {
            p.shutdown();
        }
        for (ThreadPoolExecutor p : pools()) {
            try {
                if (!p.awaitTermination(5, TimeUnit.SECONDS)) {
                    p.shutdownNow();
                }
            } catch (InterruptedException e) {
                p.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }

    private List<ThreadPoolExecutor> pools() {
        return writes == reads ? List.of(writes) : List.of(writes, reads);
    }

    private static <T> CompletableFuture<T> submit(ThreadPoolExecutor pool, String name, Supplier<T> work) {
        try {
            return CompletableFuture.supplyAsync(work, pool);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(new StoreOverloadedException(name));
        }
    }

    private static ThreadPoolExecutor pool(String name, int threads, int queueCapacity) {
        AtomicInteger counter = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, name + "-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        return new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(queueCapacity), factory, new ThreadPoolExecutor.AbortPolicy());
    }
}
