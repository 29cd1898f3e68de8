package io.fulcrum.balancer.balancing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Consistent hashing with bounded load (Mirrokni, Thorup and Zadimoghaddam, 2017; HAProxy's
 * {@code hash-balance-factor}, Envoy's {@code hash_balance_factor}) on a hash ring.
 *
 * <p>Each backend owns {@value #POINTS_PER_WEIGHT} points on a 64-bit ring per unit of its weight
 * relative to the lightest backend (scaled down when that would pass {@value #MAX_POINTS} points
 * in all). A key goes to the owner of the first point at or after its hash, walking on while that
 * owner holds its full share of the in-flight requests: {@code ceil(balanceFactor × (in-flight of
 * all + 1) × weight / total weight)}, or cannot be admitted (held down, at max-in-flight, tried
 * already). Removing one backend of N moves only the keys it owned, about 1/N.
 *
 * <p>Why a ring rather than Maglev or jump hash: jump hash can only remove the last bucket, not
 * any backend; Maglev has O(1) lookups but moves somewhat more than 1/N of the keys when one
 * backend goes, and its table gives no natural "next backend" for the bounded-load walk. A ring
 * gives both (the walk is the next point), honours weights through point counts, and its lookup is
 * a binary search over a few thousand longs.
 *
 * <p>Built once per snapshot on the control thread; {@link #pick} allocates nothing and is
 * thread-safe (it reads only final arrays and the backends' atomic counters).
 */
final class HashRing {
    static final int POINTS_PER_WEIGHT = 160;
    static final int MAX_POINTS = 1 << 16;

    private final long[] points;
    private final Backend[] owners;
    private final Backend[] backends;
    private final long totalWeight;
    private final double balanceFactor;

    HashRing(List<Backend> backends, double balanceFactor) {
        this.backends = backends.toArray(new Backend[0]);
        this.balanceFactor = balanceFactor;
        long total = 0;
        int minWeight = Integer.MAX_VALUE;
        for (Backend b : this.backends) {
            total += b.weight();
            minWeight = Math.min(minWeight, b.weight());
        }
        this.totalWeight = total;
        double perWeight = POINTS_PER_WEIGHT;
        if (total > 0 && (double) POINTS_PER_WEIGHT * total / minWeight > MAX_POINTS) {
            perWeight = (double) MAX_POINTS * minWeight / total;
        }
        record Point(long hash, Backend owner) {
        }
        List<Point> all = new ArrayList<>();
        for (Backend b : this.backends) {
            long n = Math.max(1, Math.round(perWeight * b.weight() / minWeight));
            for (long i = 0; i < n; i++) {
                all.add(new Point(Affinity.hash(b.id() + "#" + i), b));
            }
        }
        all.sort(Comparator.comparingLong(Point::hash).thenComparing(p -> p.owner().id()));
        points = new long[all.size()];
        owners = new Backend[all.size()];
        for (int i = 0; i < points.length; i++) {
            points[i] = all.get(i).hash();
            owners[i] = all.get(i).owner();
        }
    }

    /** The backends on the ring, in config order. */
    List<Backend> backends() {
        return List.of(backends);
    }

    /**
     * The backend for {@code key}: the first owner from the key's point on that is under its load
     * bound and admitted; {@code null} when none is (or the ring is empty).
     */
    Backend pick(long key, Admission admission, List<Backend> excluded, long nowNanos) {
        int len = points.length;
        if (len == 0) {
            return null;
        }
        long inFlight = 0;
        for (Backend b : backends) {
            inFlight += b.state().inFlight();
        }
        double perWeight = balanceFactor * (inFlight + 1) / totalWeight;
        int start = Arrays.binarySearch(points, key);
        if (start < 0) {
            start = -start - 1;
        }
        for (int k = 0; k < len; k++) {
            int i = start + k;
            Backend b = owners[i >= len ? i - len : i];
            if (b.state().inFlight() < Math.ceil(perWeight * b.weight()) && admission.admits(b, excluded, nowNanos)) {
                return b;
            }
        }
        return null;
    }

    /** The owner of {@code key}'s point, ignoring load: where the key goes on an idle pool. */
    Backend owner(long key) {
        if (points.length == 0) {
            return null;
        }
        int i = Arrays.binarySearch(points, key);
        if (i < 0) {
            i = -i - 1;
        }
        return owners[i == points.length ? 0 : i];
    }
}
