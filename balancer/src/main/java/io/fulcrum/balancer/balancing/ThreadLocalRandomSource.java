package io.fulcrum.balancer.balancing;

import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * The production random source of the policies: every call goes to the calling thread's
 * {@link ThreadLocalRandom}, so event loops never contend on a shared seed (a shared
 * {@link java.util.Random} would CAS one seed from every loop). Stateless and thread-safe.
 * Tests pass a seeded generator instead.
 */
final class ThreadLocalRandomSource implements RandomGenerator {
    @Override
    public long nextLong() {
        return ThreadLocalRandom.current().nextLong();
    }

    @Override
    public int nextInt(int bound) {
        return ThreadLocalRandom.current().nextInt(bound);
    }

    @Override
    public long nextLong(long bound) {
        return ThreadLocalRandom.current().nextLong(bound);
    }

    @Override
    public double nextDouble() {
        return ThreadLocalRandom.current().nextDouble();
    }
}
