import java.util.List;

/**
 * One benchmark scenario: the backends (count, workers, mean service time), the fault, whether the
 * proxies retry a 503 elsewhere, and the load. Open-loop scenarios run at a share of the pool's
 * capacity at its worst moment (a backend 3x slower counts a third, a stalled one 7/8, a
 * restarting one nothing), so that 90 % is 90 % while the fault lasts; the tower scenario is a
 * closed loop of 50 concurrent requests.
 *
 * @param retries whether the balancers retry a 503 on another backend
 */
record Scenario(String name, String description, Kind kind, int backends, int workers, double meanMs,
        boolean retries) {
    enum Kind { EQUAL, SLOW, DEGRADE, STALL, FAST_FAIL, COLD, REGION_SLOW, TOWER }

    /** Tower's demo: endpoint i answers in a time uniform below this many ms. */
    static final long[] TOWER_MAX_MS = {1, 5, 10, 10, 10, 100, 100, 100, 100, 1000};

    /** Requests a second the pool can serve at its worst moment. */
    double capacity() {
        double perBackend = workers * 1000.0 / meanMs;
        double worst = switch (kind) {
            case SLOW, DEGRADE -> backends - 1 + 1.0 / (kind == Kind.SLOW ? 3 : 10);
            case STALL -> backends - 1 + 7.0 / 8;
            case COLD -> backends - 1;
            case REGION_SLOW -> backends / 2 + (backends / 2) / 3.0;
            default -> backends;
        };
        return perBackend * worst;
    }

    /** Whether a backend misbehaves here (the bar is then two thirds of the best peer's p99.9). */
    boolean misbehaves() {
        return kind != Kind.EQUAL && kind != Kind.TOWER;
    }

    static List<Scenario> all(int workers, double meanMs) {
        return List.of(
                new Scenario("equal", "four equal backends", Kind.EQUAL, 4, workers, meanMs, true),
                new Scenario("slow", "one backend 3x slower", Kind.SLOW, 4, workers, meanMs, true),
                new Scenario("degrade", "one backend 10x slower for the middle third, then recovering",
                        Kind.DEGRADE, 4, workers, meanMs, true),
                new Scenario("stall", "one backend freezing 250 ms every 2 s", Kind.STALL, 4, workers, meanMs, true),
                new Scenario("fastfail", "one backend answering 30 % with an immediate 503, no retries",
                        Kind.FAST_FAIL, 4, workers, meanMs, false),
                new Scenario("fastfail-retry", "the same, each proxy retrying a 503 elsewhere", Kind.FAST_FAIL, 4,
                        workers, meanMs, true),
                new Scenario("cold", "one backend restarted at a third (2 s refusing), 5x slower at first, warm"
                        + " after 5 s", Kind.COLD, 4, workers, meanMs, true),
                new Scenario("region-slow", "half the pool (one region of two) 3x slower for the middle third",
                        Kind.REGION_SLOW, 4, workers, meanMs, true),
                new Scenario("tower", "tower's experiment: 10 endpoints answering in uniform [0, max) with max 1, 5,"
                        + " 10, 10, 10, 100, 100, 100, 100, 1000 ms; 50 concurrent", Kind.TOWER, 10, Integer.MAX_VALUE,
                        0, true));
    }
}
