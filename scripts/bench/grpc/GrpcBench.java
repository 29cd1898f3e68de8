import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Unary gRPC calls through Fulcrum ({@code protocol: h2c}), HAProxy ({@code proto h2} on both sides)
 * and nginx ({@code grpc_pass}), in front of the same three grpc-java servers of
 * {@code grpc.testing.SimpleService} (run in this JVM; each answers with its name). A client holds
 * ONE channel (one HTTP/2 connection) to the proxy and keeps {@code --concurrency} calls in flight
 * for {@code --seconds}, after {@code --warmup} seconds (and once per proxy before the first round,
 * {@code --jit-warmup} seconds, so that Fulcrum's JIT compiles outside the rounds); the proxies
 * take turns, round after round, so the machine's other work weighs on each alike. Per run: calls/s, p50 and p99 of the call's
 * latency, failed calls, the proxy's CPU per call (its process tree's utime + stime from
 * /proc/PID/stat) and each backend's share of the calls.
 *
 * <p>Compiled with {@code scripts/bench/balance/Proxies.java}, whose process start and nginx
 * config head it shares.
 *
 * <p>Usage: {@code GrpcBench --jar balancer.jar --out DIR [--rounds 3] [--seconds 8] [--warmup 2]
 * [--concurrency 32] [--jit-warmup 15] [--proxies fulcrum,haproxy,nginx]}
 */
public final class GrpcBench {
    private static final long TICK_NANOS = 10_000_000L; // CLK_TCK 100, as on every Linux this runs on

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String jar = opt.get("jar");
        Path out = Files.createDirectories(Path.of(opt.getOrDefault("out", "/tmp/grpc-bench")));
        int rounds = Integer.parseInt(opt.getOrDefault("rounds", "3"));
        int seconds = Integer.parseInt(opt.getOrDefault("seconds", "8"));
        int warmup = Integer.parseInt(opt.getOrDefault("warmup", "2"));
        int concurrency = Integer.parseInt(opt.getOrDefault("concurrency", "32"));
        int jitWarmup = Integer.parseInt(opt.getOrDefault("jit-warmup", "15"));
        List<String> proxies = List.of(opt.getOrDefault("proxies", "fulcrum,haproxy,nginx").split(","));

        List<Server> servers = new ArrayList<>();
        int[] ports = new int[3];
        for (int i = 0; i < 3; i++) {
            String name = "b" + i;
            Server s = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                    .addService(new SimpleServiceGrpc.SimpleServiceImplBase() {
                        @Override
                        public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> o) {
                            o.onNext(SimpleResponse.newBuilder().setResponseMessage(name).build());
                            o.onCompleted();
                        }
                    }).directExecutor().build().start();
            servers.add(s);
            ports[i] = s.getPort();
        }
        Map<String, Process> running = new LinkedHashMap<>();
        Map<String, Integer> listen = new LinkedHashMap<>();
        StringBuilder csv = new StringBuilder("round,proxy,calls_per_s,p50_ms,p99_ms,failed,cpu_us_per_call,b0,b1,b2\n");
        List<String[]> rows = new ArrayList<>();
        try {
            for (String p : proxies) {
                int port = Proxies.freePort();
                running.put(p, start(p, port, ports, jar, Files.createDirectories(out.resolve(p))));
                listen.put(p, port);
            }
            // Once per proxy before the rounds: the JVM's compilers finish their work here, not in a round.
            for (String p : proxies) {
                run(listen.get(p), running.get(p).pid(), concurrency, jitWarmup, 1);
            }
            for (int round = 1; round <= rounds; round++) {
                for (String p : proxies) {
                    Result r = run(listen.get(p), running.get(p).pid(), concurrency, warmup, seconds);
                    String[] row = {Integer.toString(round), p, fmt(r.callsPerSecond(), 0), fmt(r.p50Ms(), 3),
                        fmt(r.p99Ms(), 3), Long.toString(r.failed()), fmt(r.cpuMicrosPerCall(), 1),
                        share(r, "b0"), share(r, "b1"), share(r, "b2")};
                    rows.add(row);
                    csv.append(String.join(",", row)).append('\n');
                    System.err.println(String.join(" ", row) + "  by backend " + r.byBackend());
                }
            }
        } finally {
            for (Process p : running.values()) {
                p.descendants().forEach(ProcessHandle::destroy);
                p.destroy();
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
            servers.forEach(Server::shutdownNow);
        }
        Files.writeString(out.resolve("results.csv"), csv);
        StringBuilder md = new StringBuilder("| round | proxy | calls/s | p50 ms | p99 ms | failed | CPU µs/call "
                + "| b0 | b1 | b2 |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for (String[] row : rows) {
            md.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        Files.writeString(out.resolve("results.md"), md);
        System.out.print(md);
    }

    private static String share(Result r, String backend) {
        long total = r.byBackend().values().stream().mapToLong(Long::longValue).sum();
        return total == 0 ? "-" : fmt(100.0 * r.byBackend().getOrDefault(backend, 0L) / total, 1) + " %";
    }

    private static String fmt(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    record Result(double callsPerSecond, double p50Ms, double p99Ms, long failed, double cpuMicrosPerCall,
            Map<String, Long> byBackend) {
    }

    /** One measured run: warm-up, then {@code seconds} of calls on one new channel. */
    private static Result run(int port, long pid, int concurrency, int warmup, int seconds) throws Exception {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
                .directExecutor().build();
        try {
            SimpleServiceGrpc.SimpleServiceStub stub = SimpleServiceGrpc.newStub(channel);
            drive(stub, concurrency, TimeUnit.SECONDS.toNanos(warmup), null);
            long ticks = cpuTicks(pid);
            Recorder rec = new Recorder();
            long start = System.nanoTime();
            drive(stub, concurrency, TimeUnit.SECONDS.toNanos(seconds), rec);
            double elapsed = (System.nanoTime() - start) / 1e9;
            long cpuNanos = (cpuTicks(pid) - ticks) * TICK_NANOS;
            long[] lat = rec.latencies();
            Arrays.sort(lat);
            long ok = lat.length;
            return new Result(ok / elapsed, pct(lat, 0.50) / 1e6, pct(lat, 0.99) / 1e6, rec.failed.get(),
                    ok == 0 ? 0 : cpuNanos / 1e3 / ok, new TreeMap<>(rec.byBackend));
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static long pct(long[] sorted, double q) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    /** What one run saw: each successful call's latency, failures, answers by backend. */
    private static final class Recorder {
        final Map<String, Long> byBackend = new ConcurrentHashMap<>();
        final AtomicLong failed = new AtomicLong();
        private final List<long[]> chunks = new ArrayList<>();
        private long[] chunk = new long[1 << 16];
        private int n;

        synchronized void ok(long nanos, String backend) {
            if (n == chunk.length) {
                chunks.add(chunk);
                chunk = new long[chunk.length];
                n = 0;
            }
            chunk[n++] = nanos;
            byBackend.merge(backend, 1L, Long::sum);
        }

        synchronized long[] latencies() {
            long[] all = new long[chunks.size() * chunk.length + n];
            int p = 0;
            for (long[] c : chunks) {
                System.arraycopy(c, 0, all, p, c.length);
                p += c.length;
            }
            System.arraycopy(chunk, 0, all, p, n);
            return all;
        }
    }

    /** Keeps {@code concurrency} calls in flight for {@code nanos}, each started as the last one ends. */
    private static void drive(SimpleServiceGrpc.SimpleServiceStub stub, int concurrency, long nanos, Recorder rec)
            throws InterruptedException {
        long end = System.nanoTime() + nanos;
        CountDownLatch done = new CountDownLatch(concurrency);
        SimpleRequest request = SimpleRequest.newBuilder().setRequestMessage("ping").build();
        for (int i = 0; i < concurrency; i++) {
            new Object() {
                void next() {
                    if (System.nanoTime() >= end) {
                        done.countDown();
                        return;
                    }
                    long sent = System.nanoTime();
                    stub.withDeadlineAfter(10, TimeUnit.SECONDS).unaryRpc(request, new StreamObserver<>() {
                        private String backend;

                        @Override
                        public void onNext(SimpleResponse value) {
                            backend = value.getResponseMessage();
                        }

                        @Override
                        public void onError(Throwable t) {
                            if (rec != null) {
                                rec.failed.incrementAndGet();
                            }
                            next();
                        }

                        @Override
                        public void onCompleted() {
                            if (rec != null) {
                                rec.ok(System.nanoTime() - sent, backend);
                            }
                            next();
                        }
                    });
                }
            }.next();
        }
        if (!done.await(nanos / 1_000_000 + 30_000, TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("calls did not end");
        }
    }

    /** utime + stime, in clock ticks, of process {@code pid} and its descendants. */
    private static long cpuTicks(long pid) {
        return Stream.concat(Stream.of(pid), ProcessHandle.of(pid).stream().flatMap(ProcessHandle::descendants)
                .map(ProcessHandle::pid)).mapToLong(GrpcBench::ticksOf).sum();
    }

    private static long ticksOf(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static Process start(String name, int port, int[] backends, String jar, Path work) throws Exception {
        ProcessBuilder pb;
        switch (name) {
            case "fulcrum" -> {
                Path cfg = work.resolve("fulcrum.yaml");
                StringBuilder b = new StringBuilder();
                b.append("listen: { host: 127.0.0.1, port: ").append(port).append(" }\n");
                b.append("admin: { host: 127.0.0.1, port: ").append(Proxies.freePort()).append(" }\n");
                b.append("access-log: off\nprotocol: h2c\nrouting: { policy: least-busy }\n");
                // No active checks, as the other two have none.
                b.append("health: { enabled: false }\nbackends:\n");
                for (int i = 0; i < backends.length; i++) {
                    b.append("  - { id: b").append(i).append(", url: \"http://127.0.0.1:").append(backends[i])
                            .append("\" }\n");
                }
                Files.writeString(cfg, b);
                pb = new ProcessBuilder("java", "-Xms256m", "-Xmx256m", "-XX:+UseParallelGC", "-XX:+AlwaysPreTouch",
                        "-jar", jar, "--config", cfg.toString());
            }
            case "haproxy" -> {
                Path cfg = work.resolve("haproxy.cfg");
                StringBuilder b = new StringBuilder();
                b.append("global\n    nbthread 1\n    maxconn 8192\n\n");
                b.append("defaults\n    mode http\n    http-reuse always\n");
                b.append("    timeout connect 1s\n    timeout client 60s\n    timeout server 30s\n\n");
                b.append("frontend in\n    bind 127.0.0.1:").append(port).append(" proto h2\n");
                b.append("    default_backend pool\n\n");
                b.append("backend pool\n    balance leastconn\n");
                for (int i = 0; i < backends.length; i++) {
                    b.append("    server b").append(i).append(" 127.0.0.1:").append(backends[i]).append(" proto h2\n");
                }
                Files.writeString(cfg, b);
                pb = new ProcessBuilder("haproxy", "-db", "-f", cfg.toString());
            }
            case "nginx" -> {
                Files.createDirectories(work.resolve("tmp"));
                Path cfg = work.resolve("nginx.conf");
                StringBuilder b = Proxies.nginxHead(work);
                b.append("    keepalive_requests 1000000;\n");
                b.append("    upstream pool {\n        least_conn;\n");
                for (int backend : backends) {
                    b.append("        server 127.0.0.1:").append(backend).append(";\n");
                }
                b.append("        keepalive 64;\n        keepalive_requests 1000000;\n    }\n");
                // nginx 1.22 spells HTTP/2 on the listen line; 1.25.1 and later as "http2 on;".
                b.append("    server {\n        listen 127.0.0.1:").append(port).append(" http2;\n");
                b.append("        location / {\n            grpc_pass grpc://pool;\n        }\n    }\n}\n");
                Files.writeString(cfg, b);
                pb = new ProcessBuilder("nginx", "-p", work.toString(), "-c", cfg.toString());
            }
            default -> throw new IllegalArgumentException("proxy: " + name);
        }
        return Proxies.launch(name, pb, work, port);
    }
}
