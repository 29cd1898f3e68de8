import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bounded load for scripts/chaos.sh: N workers, each looping over blocking requests on a shared
 * keep-alive HTTP/1.1 client, until the duration is over or the request count is reached.
 *
 * <pre>
 * java scripts/chaos/Load.java --url http://127.0.0.1:8080 --get-ids 1,2,3 [options]
 *   --conns N            concurrent workers (default 8)
 *   --duration S         seconds of load (default 10)
 *   --max-requests N     stop after this many requests in all (default 1000000)
 *   --post-percent P     share of requests that are POST /posts with an Idempotency-Key (default 0)
 *   --run-id ID          author of the posts and prefix of their keys (default: load-<time>)
 *   --backend-header H   response header naming the backend (default X-Fulcrum-Backend)
 *   --timeout S          per-request client timeout in seconds (default 10)
 *   --ready-file F       created when the workers start, so a caller can time its faults
 *   --stop-file F        the workers stop soon after this file appears (--duration still caps)
 *   --timeline F         per-second counts: "epochSecond requests failures backend=count..."
 *   --failures-log F     one line per failed request (the first 200)
 *   --verify-url U       after the load, page U/timeline?author=ID (a node, not the balancer)
 *                        and count duplicate and lost posts
 * </pre>
 *
 * A GET is GET /posts/{id} with an id from --get-ids and must answer 200. A POST must answer 201
 * (created) or 200 (a repeat of its key). Anything else, an exception or a client timeout is a
 * failure. Output: one line starting with "LOAD " of key=value fields.
 *
 * Note on the JDK client: like browsers, it retries an idempotent request (a GET) once when a
 * reused keep-alive connection is closed before any byte of the response arrives, so such closes
 * are not counted for GETs. It never retries a POST, so POST failures are exact.
 */
public class Load {
    private static final Pattern TEXT = Pattern.compile("\"text\":\"([^\"]*)\"");
    private static final Pattern ID = Pattern.compile("\"id\":(\\d+)");
    private static final Pattern CURSOR = Pattern.compile("\"nextCursor\":\"([^\"]*)\"");

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                System.err.println("usage: see the comment at the top of Load.java; bad argument " + args[i]);
                System.exit(2);
            }
            opt.put(args[i].substring(2), args[++i]);
        }
        String url = required(opt, "url");
        int conns = Integer.parseInt(opt.getOrDefault("conns", "8"));
        double duration = Double.parseDouble(opt.getOrDefault("duration", "10"));
        long maxRequests = Long.parseLong(opt.getOrDefault("max-requests", "1000000"));
        int postPercent = Integer.parseInt(opt.getOrDefault("post-percent", "0"));
        String runId = opt.getOrDefault("run-id", "load-" + System.currentTimeMillis());
        String backendHeader = opt.getOrDefault("backend-header", "X-Fulcrum-Backend");
        Duration timeout = Duration.ofMillis((long) (Double.parseDouble(opt.getOrDefault("timeout", "10")) * 1000));
        long[] getIds = opt.containsKey("get-ids")
                ? Arrays.stream(opt.get("get-ids").split(",")).mapToLong(Long::parseLong).toArray()
                : new long[0];
        if (getIds.length == 0 && postPercent < 100) {
            System.err.println("--get-ids is needed unless --post-percent is 100");
            System.exit(2);
        }

        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        Stats stats = new Stats(conns);
        Map<String, Long> acked = new ConcurrentHashMap<>(); // idempotency key -> post id answered
        PrintWriter failuresLog = opt.containsKey("failures-log")
                ? new PrintWriter(Files.newBufferedWriter(Path.of(opt.get("failures-log"))), true)
                : null;
        AtomicLong issued = new AtomicLong();
        long startNanos = System.nanoTime();
        long deadline = startNanos + (long) (duration * 1e9);

        AtomicBoolean stop = new AtomicBoolean();
        if (opt.containsKey("stop-file")) {
            Path stopFile = Path.of(opt.get("stop-file"));
            Thread watcher = new Thread(() -> {
                while (!stop.get()) {
                    if (Files.exists(stopFile)) stop.set(true);
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "stop-file");
            watcher.setDaemon(true);
            watcher.start();
        }
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < conns; w++) {
            int worker = w;
            Thread t = new Thread(() -> {
                long seq = 0;
                ThreadLocalRandom rnd = ThreadLocalRandom.current();
                while (!stop.get() && System.nanoTime() < deadline && issued.incrementAndGet() <= maxRequests) {
                    boolean post = rnd.nextInt(100) < postPercent;
                    HttpRequest request;
                    String key = null;
                    if (post) {
                        key = runId + "-" + worker + "-" + (seq++);
                        request = HttpRequest.newBuilder(URI.create(url + "/posts"))
                                .timeout(timeout)
                                .header("Content-Type", "application/json")
                                .header("Idempotency-Key", key)
                                .POST(HttpRequest.BodyPublishers.ofString(
                                        "{\"author\":\"" + runId + "\",\"text\":\"" + key + "\"}"))
                                .build();
                    } else {
                        long id = getIds[rnd.nextInt(getIds.length)];
                        request = HttpRequest.newBuilder(URI.create(url + "/posts/" + id)).timeout(timeout).GET().build();
                    }
                    long t0 = System.nanoTime();
                    String failure = null;
                    String backend = "-";
                    String requestId = "-";
                    int status = 0;
                    try {
                        HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                        status = r.statusCode();
                        backend = r.headers().firstValue(backendHeader).orElse("none");
                        requestId = r.headers().firstValue("X-Request-Id").orElse("-");
                        boolean ok = post ? (status == 201 || status == 200) : status == 200;
                        if (!ok) {
                            failure = "http-" + status;
                        } else if (post) {
                            Matcher m = ID.matcher(r.body());
                            acked.put(key, m.find() ? Long.parseLong(m.group(1)) : -1L);
                        }
                        if (!ok && failuresLog != null && stats.failures.sum() < 200) {
                            String body = r.body();
                            requestId += " body=" + body.substring(0, Math.min(160, body.length())).replace('\n', ' ');
                        }
                    } catch (HttpTimeoutException e) {
                        failure = "timeout";
                    } catch (IOException e) {
                        failure = e.getClass().getSimpleName();
                        if (failuresLog != null) requestId = String.valueOf(e.getMessage());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    long micros = (System.nanoTime() - t0) / 1000;
                    stats.record(worker, micros, post, failure, backend);
                    if (failure != null && failuresLog != null && stats.failures.sum() <= 200) {
                        failuresLog.printf(Locale.ROOT, "%d %s %s status=%d kind=%s backend=%s ms=%.1f %s%n",
                                System.currentTimeMillis(), post ? "POST" : "GET", post ? key : request.uri().getPath(),
                                status, failure, backend, micros / 1000.0, requestId);
                    }
                }
            }, "load-" + w);
            workers.add(t);
        }
        if (opt.containsKey("ready-file")) {
            Files.writeString(Path.of(opt.get("ready-file")), Long.toString(System.currentTimeMillis()));
        }
        for (Thread t : workers) t.start();
        for (Thread t : workers) t.join();
        stop.set(true);
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        if (failuresLog != null) failuresLog.close();
        if (opt.containsKey("timeline")) stats.writeTimeline(Path.of(opt.get("timeline")));

        long[] lat = stats.latencies();
        Arrays.sort(lat);
        StringBuilder out = new StringBuilder("LOAD");
        field(out, "requests", lat.length);
        field(out, "failures", stats.failures.sum());
        field(out, "get_failures", stats.getFailures.sum());
        field(out, "post_failures", stats.postFailures.sum());
        field(out, "failure_kinds", join(stats.failureKinds));
        field(out, "seconds", String.format(Locale.ROOT, "%.1f", elapsed));
        field(out, "rps", String.format(Locale.ROOT, "%.0f", lat.length / elapsed));
        field(out, "p50_ms", ms(percentile(lat, 0.50)));
        field(out, "p99_ms", ms(percentile(lat, 0.99)));
        field(out, "max_ms", ms(lat.length == 0 ? 0 : lat[lat.length - 1]));
        field(out, "posts_sent", stats.posts.sum());
        field(out, "keys_acked", acked.size());
        field(out, "backends", join(stats.backends));
        if (opt.containsKey("verify-url") && stats.posts.sum() > 0) {
            verify(client, opt.get("verify-url"), runId, acked, out);
        }
        System.out.println(out);
    }

    /** Pages the run's posts on one node and compares them with the keys the clients saw acknowledged. */
    private static void verify(HttpClient client, String nodeUrl, String runId, Map<String, Long> acked,
            StringBuilder out) throws IOException, InterruptedException {
        Map<String, Integer> stored = new HashMap<>();
        long posts = 0;
        String cursor = null;
        do {
            String u = nodeUrl + "/timeline?limit=100&author=" + URLEncoder.encode(runId, StandardCharsets.UTF_8)
                    + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8));
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(u)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                field(out, "verify_error", "http-" + r.statusCode());
                return;
            }
            String body = r.body();
            Matcher m = TEXT.matcher(body);
            while (m.find()) {
                stored.merge(m.group(1), 1, Integer::sum);
                posts++;
            }
            Matcher c = CURSOR.matcher(body);
            cursor = c.find() ? c.group(1) : null;
        } while (cursor != null);
        long duplicates = posts - stored.size();
        long lost = acked.keySet().stream().filter(k -> !stored.containsKey(k)).count();
        long unacked = stored.keySet().stream().filter(k -> !acked.containsKey(k)).count();
        field(out, "posts_stored", posts);
        field(out, "keys_stored", stored.size());
        field(out, "duplicates", duplicates);
        field(out, "lost", lost);
        field(out, "stored_unacked", unacked);
    }

    private static final class Stats {
        final LongAdder failures = new LongAdder();
        final LongAdder getFailures = new LongAdder();
        final LongAdder postFailures = new LongAdder();
        final LongAdder posts = new LongAdder();
        final Map<String, Long> failureKinds = new ConcurrentHashMap<>();
        final Map<String, Long> backends = new ConcurrentHashMap<>();
        /** epoch second -> "requests", "failures" and backend -> count */
        final Map<Long, Map<String, Long>> timeline = new ConcurrentHashMap<>();
        /** Latencies in microseconds, one array per worker, each written by its worker only. */
        final long[][] lat;
        final int[] count;

        Stats(int workers) {
            lat = new long[workers][1 << 14];
            count = new int[workers];
        }

        void record(int worker, long micros, boolean post, String failure, String backend) {
            if (count[worker] == lat[worker].length) {
                lat[worker] = Arrays.copyOf(lat[worker], lat[worker].length * 2);
            }
            lat[worker][count[worker]++] = micros;
            if (post) posts.increment();
            Map<String, Long> second = timeline.computeIfAbsent(System.currentTimeMillis() / 1000,
                    s -> new ConcurrentHashMap<>());
            second.merge("requests", 1L, Long::sum);
            if (failure != null) {
                failures.increment();
                (post ? postFailures : getFailures).increment();
                failureKinds.merge(failure, 1L, Long::sum);
                second.merge("failures", 1L, Long::sum);
            } else {
                backends.merge(backend, 1L, Long::sum);
                second.merge("backend." + backend, 1L, Long::sum);
            }
        }

        /** All latencies; called once the workers have ended. */
        long[] latencies() {
            long[] all = new long[Arrays.stream(count).sum()];
            int at = 0;
            for (int w = 0; w < lat.length; w++) {
                System.arraycopy(lat[w], 0, all, at, count[w]);
                at += count[w];
            }
            return all;
        }

        void writeTimeline(Path file) throws IOException {
            StringBuilder sb = new StringBuilder();
            for (Map.Entry<Long, Map<String, Long>> e : new TreeMap<>(timeline).entrySet()) {
                Map<String, Long> s = e.getValue();
                sb.append(e.getKey()).append(' ').append(s.getOrDefault("requests", 0L))
                        .append(' ').append(s.getOrDefault("failures", 0L));
                for (Map.Entry<String, Long> b : new TreeMap<>(s).entrySet()) {
                    if (b.getKey().startsWith("backend.")) {
                        sb.append(' ').append(b.getKey().substring(8)).append('=').append(b.getValue());
                    }
                }
                sb.append('\n');
            }
            Files.writeString(file, sb.toString());
        }
    }

    private static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) return 0;
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private static String ms(long micros) {
        return String.format(Locale.ROOT, "%.1f", micros / 1000.0);
    }

    private static String join(Map<String, Long> m) {
        if (m.isEmpty()) return "-";
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Long> e : new TreeMap<>(m).entrySet()) {
            if (sb.length() > 0) sb.append(',');
            sb.append(e.getKey()).append(':').append(e.getValue());
        }
        return sb.toString();
    }

    private static void field(StringBuilder out, String name, Object value) {
        out.append(' ').append(name).append('=').append(value);
    }

    private static String required(Map<String, String> opt, String name) {
        String v = opt.get(name);
        if (v == null) {
            System.err.println("--" + name + " is required");
            System.exit(2);
        }
        return v;
    }
}
