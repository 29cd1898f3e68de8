package io.fulcrum.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Client threads that each run one loop of writes while the test breaks something underneath
 * them; {@link #join()} waits for every loop and rethrows the first failure. Not thread safe: one
 * test thread starts, joins and closes it.
 */
public final class Writers implements AutoCloseable {
    /** The loop of writer number {@code writer} (from 0). */
    public interface Loop {
        void run(int writer) throws Exception;
    }

    private final ExecutorService pool;
    private final List<Future<?>> loops = new ArrayList<>();

    private Writers(int n, Loop loop) {
        pool = Executors.newFixedThreadPool(n);
        for (int w = 0; w < n; w++) {
            int writer = w;
            loops.add(pool.submit(() -> {
                loop.run(writer);
                return null;
            }));
        }
    }

    /** Starts {@code n} threads, each running {@code loop}. */
    public static Writers start(int n, Loop loop) {
        return new Writers(n, loop);
    }

    /** Waits for every loop to end; a loop's failure is thrown (wrapped) here. */
    public void join() throws Exception {
        for (Future<?> f : loops) {
            f.get();
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
