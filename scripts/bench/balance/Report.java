import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The results as a markdown table (with Fulcrum's verdict against the bar) and as CSV. */
final class Report {
    private Report() {
    }

    static String shares(long[] received) {
        long total = 0;
        for (long r : received) {
            total += r;
        }
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < received.length; i++) {
            s.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.0f",
                    total == 0 ? 0 : 100.0 * received[i] / total));
        }
        return s.toString();
    }

    static String markdown(List<BalanceBench.Row> rows, String loadBefore, String loadAfter, long durationNanos) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "Load average before: %s; after: %s. Each run %d s.%n%n", loadBefore,
                loadAfter, durationNanos / 1_000_000_000L));
        s.append("| scenario | load | balancer | p50 ms | p99 ms | p99.9 ms | failed | requests | share % per backend"
                + " | Fulcrum vs the bar |\n");
        s.append("|---|---|---|---:|---:|---:|---:|---:|---|---|\n");
        Map<String, List<BalanceBench.Row>> cells = new LinkedHashMap<>();
        for (BalanceBench.Row r : rows) {
            cells.computeIfAbsent(r.scenario().name() + "@" + r.util(), k -> new ArrayList<>()).add(r);
        }
        for (List<BalanceBench.Row> cell : cells.values()) {
            String verdict = verdict(cell);
            for (BalanceBench.Row r : cell) {
                s.append(String.format(Locale.ROOT, "| %s | %s | %s | %.1f | %.1f | %.1f | %d | %d | %s | %s |%n",
                        r.scenario().name(), load(r), r.proxy(), r.p(50), r.p(99), r.p(99.9), r.result().failed,
                        r.result().sent, shares(r.received()), r.proxy().equals("fulcrum") ? verdict : ""));
            }
        }
        return s.toString();
    }

    private static String load(BalanceBench.Row r) {
        return Double.isNaN(r.util()) ? "50 concurrent"
                : String.format(Locale.ROOT, "%d %% (%.0f/s)", Math.round(r.util() * 100), r.rate());
    }

    /**
     * Whether Fulcrum meets the bar in one cell: p99 and p99.9 at or below the best peer's (p99.9 at
     * most two thirds of it where a backend misbehaves), no failure with retries where a backend
     * fails fast, and p99.9 at most 105 ms in the tower scenario.
     */
    static String verdict(List<BalanceBench.Row> cell) {
        BalanceBench.Row f = null;
        double bestP99 = Double.POSITIVE_INFINITY;
        double bestP999 = Double.POSITIVE_INFINITY;
        for (BalanceBench.Row r : cell) {
            if (r.proxy().equals("fulcrum")) {
                f = r;
            } else {
                bestP99 = Math.min(bestP99, r.p(99));
                bestP999 = Math.min(bestP999, r.p(99.9));
            }
        }
        if (f == null) {
            return "";
        }
        List<String> misses = new ArrayList<>();
        Scenario s = f.scenario();
        if (s.kind() == Scenario.Kind.TOWER) {
            if (!(f.p(99.9) <= 105)) {
                misses.add("p99.9 > 105");
            }
        }
        if (Double.isFinite(bestP99) && !(f.p(99) <= bestP99)) {
            misses.add(String.format(Locale.ROOT, "p99 > %.1f", bestP99));
        }
        double p999Bar = s.misbehaves() ? bestP999 * 2 / 3 : bestP999;
        if (Double.isFinite(p999Bar) && !(f.p(99.9) <= p999Bar)) {
            misses.add(String.format(Locale.ROOT, "p99.9 > %.1f", p999Bar));
        }
        if (s.kind() == Scenario.Kind.FAST_FAIL && s.retries() && f.result().failed > 0) {
            misses.add(f.result().failed + " failed");
        }
        return misses.isEmpty() ? "meets" : "misses: " + String.join(", ", misses);
    }

    static String csv(List<BalanceBench.Row> rows) {
        StringBuilder s = new StringBuilder("scenario,util,proxy,rate,p50,p99,p999,ok,failed,shares\n");
        for (BalanceBench.Row r : rows) {
            s.append(String.format(Locale.ROOT, "%s,%s,%s,%.1f,%.2f,%.2f,%.2f,%d,%d,%s%n", r.scenario().name(),
                    Double.isNaN(r.util()) ? "c50" : String.valueOf(r.util()), r.proxy(), r.rate(), r.p(50), r.p(99),
                    r.p(99.9), r.result().ok, r.result().failed, shares(r.received()).replace(' ', '/')));
        }
        return s.toString();
    }
}
