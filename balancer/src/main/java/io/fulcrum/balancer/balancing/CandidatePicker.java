package io.fulcrum.balancer.balancing;

import java.util.List;

/**
 * A policy's core: chooses one backend of its fixed candidate set that the given {@link Admission}
 * admits, or {@code null} when none does. The region logic composes pickers, one per region plus one
 * for panic mode. Implementations are thread-safe, do no I/O and allocate nothing.
 */
interface CandidatePicker {
    /**
     * @param admission which candidates may be returned in this pass
     * @param excluded backends a retry already tried, for {@link Admission#isExcluded}
     * @param nowNanos the {@link NanoClock} time of this selection (latency decay, slow start)
     */
    Backend pick(Admission admission, List<Backend> excluded, long nowNanos);

    /** The candidates, in config order; never modified. */
    List<Backend> candidates();
}
