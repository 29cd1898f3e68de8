package io.fulcrum.balancer.resilience;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** Config building and a bounded concurrent load generator for the resilience tests. */
final class Resilience {
    /** Event loops of the balancer under test; more than one, so retries may cross loops. */
    static final int WORKER_THREADS = 2;

    private Resilience() {
    }

    /**
     * A balancer config with short health intervals for tests. {@code sections} is YAML for the
     * health/outlier/retry/routing sections, one top-level key per line.
     */
    static BalancerConfig config(Map<String, Integer> backendPorts, String sections) throws ConfigException {
        StringBuilder yaml = new StringBuilder("""
                listen: { host: 127.0.0.1, port: 0 }
                admin: { host: 127.0.0.1, port: 0 }
                region: local
                access-log: off
                timeouts: { connect: 500ms, response: 5s, client-idle: 30s, backend-idle: 10s, drain: 1s }
                backends:
                """);
        backendPorts.forEach((id, port) -> yaml.append("  - { id: ").append(id)
                .append(", url: \"http://127.0.0.1:").append(port).append("\" }\n"));
        yaml.append(sections);
        return ConfigLoader.parse(yaml.toString(), "test");
    }

    static Balancer start(BalancerConfig config) throws InterruptedException {
        return new Balancer(config, WORKER_THREADS).start();
    }

    /** What a load run saw: statuses by code, and transport errors (no response at all). */
    static final class LoadResult {
        final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
        final List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());

        long count(int status) {
            LongAdder a = statuses.get(status);
            return a == null ? 0 : a.sum();
        }

        long total() {
            return statuses.values().stream().mapToLong(LongAdder::sum).sum() + errors.size();
        }

        /** Everything other than a 200. */
        long failures() {
            return total() - count(200);
        }

        @Override
        public String toString() {
            return "statuses=" + statuses + " errors=" + errors.subList(0, Math.min(5, errors.size()));
        }
    }

    /** Runs GET load through the balancer with a fixed number of clients, each one request at a time. */
    static final class Load implements AutoCloseable {
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        private final ExecutorService clients;
        private final int concurrency;
        private final URI uri;
        final AtomicInteger done = new AtomicInteger();

        Load(int port, String path, int concurrency) {
            this.uri = URI.create("http://127.0.0.1:" + port + path);
            this.concurrency = concurrency;
            this.clients = Executors.newFixedThreadPool(concurrency);
        }

        /** Starts {@code requests} GETs spread over the clients; the future completes when all ended. */
        Future<LoadResult> start(int requests) {
            LoadResult result = new LoadResult();
            AtomicInteger left = new AtomicInteger(requests);
            List<Future<?>> workers = new ArrayList<>();
            for (int i = 0; i < concurrency; i++) {
                workers.add(clients.submit(() -> {
                    while (left.getAndDecrement() > 0) {
                        one(result);
                        done.incrementAndGet();
                    }
                }));
            }
            return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                for (Future<?> w : workers) {
                    try {
                        w.get(60, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
                return result;
            });
        }

        LoadResult run(int requests) throws Exception {
            return start(requests).get(60, TimeUnit.SECONDS);
        }

        private void one(LoadResult result) {
            HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build();
            try {
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                result.statuses.computeIfAbsent(r.statusCode(), k -> new LongAdder()).increment();
            } catch (IOException e) {
                result.errors.add(e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                result.errors.add(e.toString());
            }
        }

        @Override
        public void close() {
            clients.shutdownNow();
        }
    }
}
