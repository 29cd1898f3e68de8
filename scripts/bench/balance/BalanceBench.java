import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Balancing quality: Fulcrum, HAProxy and nginx in front of the same simulated backends (see
 * {@link SimBackends}, {@link Scenario}), one scenario after another, each load level, the three
 * balancers in turn (interleaved), under an open-loop Poisson load ({@link Load}). Prints one
 * markdown row per scenario, load and balancer (p50, p99, p99.9 of the successes from their
 * scheduled send time, failures, each backend's share of the requests it received) and writes
 * results.md and results.csv into the output directory.
 *
 * <p>Usage: {@code BalanceBench --jar balancer.jar --out DIR [--duration S] [--warmup S]
 * [--scenarios a,b] [--proxies fulcrum,haproxy,nginx] [--utils 0.7,0.9] [--workers N] [--mean-ms M]}
 */
public final class BalanceBench {
    private BalanceBench() {
    }

    record Row(Scenario scenario, double util, String proxy, double rate, Load.Result result, long[] received) {
        double p(double q) {
            return result.latencyMicros.getTotalCount() == 0 ? Double.NaN
                    : result.latencyMicros.getValueAtPercentile(q) / 1000.0;
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        long duration = TimeUnit.SECONDS.toNanos(Long.parseLong(opt.getOrDefault("duration", "15")));
        long warmup = TimeUnit.SECONDS.toNanos(Long.parseLong(opt.getOrDefault("warmup", "8")));
        int workers = Integer.parseInt(opt.getOrDefault("workers", "4"));
        double meanMs = Double.parseDouble(opt.getOrDefault("mean-ms", "40"));
        List<String> proxies = List.of(opt.getOrDefault("proxies", String.join(",", Proxies.NAMES)).split(","));
        double[] utils = Arrays.stream(opt.getOrDefault("utils", "0.7,0.9").split(","))
                .mapToDouble(Double::parseDouble).toArray();
        List<String> only = opt.containsKey("scenarios") ? List.of(opt.get("scenarios").split(",")) : null;
        Path out = Files.createDirectories(Path.of(opt.getOrDefault("out", "/tmp/bench-balance")));
        Proxies launcher = new Proxies(out, opt.get("jar"),
                opt.getOrDefault("jvm-opts", "-Xms256m -Xmx256m -XX:+UseParallelGC -XX:+AlwaysPreTouch"));

        List<Scenario> scenarios = new ArrayList<>();
        for (Scenario s : Scenario.all(workers, meanMs)) {
            if (only == null || only.contains(s.name())) {
                scenarios.add(s);
            }
        }
        // Groups of scenarios that share the proxies' configuration: the backends and the retries.
        Map<String, List<Scenario>> groups = new LinkedHashMap<>();
        for (Scenario s : scenarios) {
            groups.computeIfAbsent(s.backends() + "/" + s.retries(), k -> new ArrayList<>()).add(s);
        }
        String loadBefore = Files.readString(Path.of("/proc/loadavg")).trim();
        List<Row> rows = new ArrayList<>();
        EventLoopGroup backendLoop = new MultiThreadIoEventLoopGroup(proxies.size(), NioIoHandler.newFactory());
        EventLoopGroup clientLoop = new MultiThreadIoEventLoopGroup(proxies.size(), NioIoHandler.newFactory());
        Runtime.getRuntime().addShutdownHook(new Thread(launcher::stopAll));
        try {
            long seed = 1;
            for (List<Scenario> group : groups.values()) {
                Scenario first = group.get(0);
                Scenario warm = new Scenario("warm-up", "", first.kind() == Scenario.Kind.TOWER
                        ? Scenario.Kind.TOWER : Scenario.Kind.EQUAL, first.backends(), first.workers(), first.meanMs(),
                        first.retries());
                String tag = first.backends() + (first.retries() ? "-retry" : "-noretry");
                // Each balancer has its own copy of the backends and its own load, all three at once:
                // the machine's other work then weighs on each alike.
                Map<String, SimBackends> sims = new LinkedHashMap<>();
                Map<String, Load> loads = new LinkedHashMap<>();
                for (String p : proxies) {
                    SimBackends sim = new SimBackends(backendLoop, warm, first.backends());
                    sims.put(p, sim);
                    loads.put(p, new Load(clientLoop, launcher.start(p, sim.ports(), first.retries(), tag)));
                }
                boolean concurrent = first.kind() != Scenario.Kind.TOWER;
                log("warm-up (" + tag + ")");
                runCell(proxies, sims, loads, warm, concurrent ? 0.5 : Double.NaN, warmup, 0, concurrent);
                for (Scenario s : group) {
                    double[] levels = s.kind() == Scenario.Kind.TOWER ? new double[] {Double.NaN} : utils;
                    for (double util : levels) {
                        seed++;
                        Thread.sleep(1000);
                        for (Row row : runCell(proxies, sims, loads, s, util, duration, seed, concurrent)) {
                            rows.add(row);
                            log(line(row));
                        }
                    }
                }
                launcher.stopAll();
                sims.values().forEach(SimBackends::close);
            }
        } finally {
            launcher.stopAll();
            backendLoop.shutdownGracefully();
            clientLoop.shutdownGracefully();
        }
        String loadAfter = Files.readString(Path.of("/proc/loadavg")).trim();
        String table = Report.markdown(rows, loadBefore, loadAfter, duration);
        Files.writeString(out.resolve("results.md"), table);
        Files.writeString(out.resolve("results.csv"), Report.csv(rows));
        System.out.println(table);
    }

    /** One cell: every balancer under the same scenario and load, at once or one after another. */
    private static List<Row> runCell(List<String> proxies, Map<String, SimBackends> sims, Map<String, Load> loads,
            Scenario s, double util, long nanos, long seed, boolean concurrent) throws Exception {
        List<Row> rows = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (String p : proxies) {
            Runnable run = () -> {
                try {
                    SimBackends sim = sims.get(p);
                    sim.scenario(s);
                    sim.startRun(nanos, seed);
                    double rate = Double.isNaN(util) ? Double.NaN : util * s.capacity();
                    Load.Result r = Double.isNaN(util) ? loads.get(p).closed(50, nanos)
                            : loads.get(p).open(rate, nanos, seed);
                    synchronized (rows) {
                        rows.add(new Row(s, util, p, rate, r, sim.received()));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            if (concurrent) {
                Thread t = new Thread(run, "cell-" + p);
                t.start();
                threads.add(t);
            } else {
                run.run();
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        rows.sort(java.util.Comparator.comparingInt(r -> proxies.indexOf(r.proxy())));
        return rows;
    }

    static String line(Row r) {
        return String.format(Locale.ROOT, "%-15s %4s %-8s p50 %7.1f p99 %7.1f p99.9 %7.1f ok %6d failed %5d %s",
                r.scenario().name(), Double.isNaN(r.util()) ? "c50" : Math.round(r.util() * 100) + "%", r.proxy(),
                r.p(50), r.p(99), r.p(99.9), r.result().ok, r.result().failed, Report.shares(r.received()));
    }

    static void log(String s) {
        System.err.println(java.time.LocalTime.now().withNano(0) + " " + s);
    }
}
