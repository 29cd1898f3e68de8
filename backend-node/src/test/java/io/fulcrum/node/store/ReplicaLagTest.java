package io.fulcrum.node.store;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The lag is the age of the oldest primary position the replica has not replayed. */
class ReplicaLagTest {
    private static final long MS = 1_000_000;

    @Test
    void aCaughtUpReplicaHasNoLagHoweverIdleThePrimary() {
        ReplicaLag lag = new ReplicaLag();
        lag.primaryAt(100, 0);
        lag.replicaAt(100);
        lag.primaryAt(100, 60_000 * MS);
        assertEquals(0, lag.lagNanos(3_600_000 * MS));
    }

    @Test
    void aPausedReplicaLagsByTheAgeOfTheFirstPositionItMissed() {
        ReplicaLag lag = new ReplicaLag();
        lag.replicaAt(100);
        lag.primaryAt(100, 0);
        lag.primaryAt(150, 1_000 * MS);
        lag.primaryAt(200, 2_000 * MS);
        assertEquals(4_000 * MS, lag.lagNanos(5_000 * MS));
        lag.replicaAt(160);
        assertEquals(3_000 * MS, lag.lagNanos(5_000 * MS), "now measured from the sample at 200");
        lag.replicaAt(200);
        assertEquals(0, lag.lagNanos(5_000 * MS));
        assertEquals(200, lag.replayed());
        assertEquals(200, lag.primary());
    }

    @Test
    void whileThePrimaryIsSilentTheLagDoesNotGrowPastWhatWasMissed() {
        ReplicaLag lag = new ReplicaLag();
        lag.replicaAt(100);
        lag.primaryAt(150, 1_000 * MS);
        lag.replicaAt(150);
        // The primary is down: no more samples. The replica has everything it was sent.
        assertEquals(0, lag.lagNanos(100_000 * MS));
    }

    @Test
    void boundedSamplesKeepTheOldestExact() {
        ReplicaLag lag = new ReplicaLag();
        lag.replicaAt(1);
        for (int i = 0; i < ReplicaLag.MAX_SAMPLES * 3; i++) {
            lag.primaryAt(10 + i, i * MS);
        }
        assertEquals(10_000 * MS, lag.lagNanos(10_000 * MS), "measured from the first missed sample at 0");
        assertEquals(10 + ReplicaLag.MAX_SAMPLES * 3 - 1, lag.primary());
    }
}
