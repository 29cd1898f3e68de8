package io.fulcrum.balancer.routing.e2e;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Shared pieces of the end-to-end routing tests: balancer configs on loopback, a balancer started
 * from one, and a bounded load driver over {@link KeepAliveClient}s. Stateless; each call builds its own
 * objects.
 */
final class E2eFixtures {
    /** Per request: generous, so that only a hung balancer fails a test on time. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private E2eFixtures() {
    }

    /** One backend line of the config. */
    record BackendSpec(TestBackend server, String region, int weight, int maxInFlight) {
        String yaml() {
            return "  - {id: " + server.id() + ", url: \"" + server.url() + "\", region: " + region
                    + ", weight: " + weight + ", max-in-flight: " + maxInFlight + "}\n";
        }
    }

    static BackendSpec backend(TestBackend server, String region) {
        return new BackendSpec(server, region, 1, 512);
    }

    /**
     * A config on 127.0.0.1 with ephemeral ports, no access log, and active health checks off
     * (health.enabled: false), so the tests alone decide backend health.
     *
     * @param routing the body of the {@code routing} section in flow style, for example
     *     {@code "policy: round-robin"}
     */
    static BalancerConfig config(String region, String routing, List<BackendSpec> backends) throws ConfigException {
        StringBuilder yaml = new StringBuilder()
                .append("listen: {host: 127.0.0.1, port: 0}\n")
                .append("admin: {host: 127.0.0.1, port: 0}\n")
                .append("region: ").append(region).append('\n')
                .append("access-log: \"off\"\n")
                .append("health: {enabled: false}\n")
                .append("routing: {").append(routing).append("}\n")
                .append("backends:\n");
        backends.forEach(b -> yaml.append(b.yaml()));
        return ConfigLoader.parse(yaml.toString(), "test");
    }

    static Balancer start(BalancerConfig config) throws InterruptedException {
        return new Balancer(config, 2).start();
    }

    /**
     * What a load run saw: responses by status (-1 for a request that got no response at all), and
     * the backends' ids from the successful bodies.
     */
    record LoadResult(Map<Integer, Integer> statuses, Map<String, Integer> servedBy, long elapsedNanos,
            List<String> errors) {
        int count(int status) {
            return statuses.getOrDefault(status, 0);
        }

        int servedBy(String id) {
            return servedBy.getOrDefault(id, 0);
        }

        double requestsPerSecond() {
            int total = statuses.values().stream().mapToInt(Integer::intValue).sum();
            return total * 1e9 / elapsedNanos;
        }
    }

    /**
     * Sends {@code total} GET requests through the balancer from {@code clients} concurrent clients,
     * each sending its next request when the previous answer is complete (a closed loop, so the load
     * is bounded by {@code clients}).
     */
    static LoadResult load(Balancer balancer, int clients, int total, Map<String, String> headers)
            throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
        Map<String, LongAdder> servedBy = new ConcurrentHashMap<>();
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long start = System.nanoTime();
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                running.add(pool.submit(() -> {
                    try (KeepAliveClient client = new KeepAliveClient(balancer.port(), headers)) {
                        while (next.getAndIncrement() < total) {
                            int status;
                            try {
                                KeepAliveClient.Response r = client.get();
                                status = r.status();
                                if (status == 200) {
                                    servedBy.computeIfAbsent(r.body(), k -> new LongAdder()).increment();
                                }
                            } catch (IOException e) {
                                status = -1;
                                if (errors.size() < 10) {
                                    errors.add(e.toString());
                                }
                            }
                            statuses.computeIfAbsent(status, k -> new LongAdder()).increment();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                try {
                    f.get(2, TimeUnit.MINUTES);
                } catch (ExecutionException | TimeoutException e) {
                    throw new AssertionError("load client failed", e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        long elapsed = System.nanoTime() - start;
        Map<Integer, Integer> s = new TreeMap<>();
        statuses.forEach((k, v) -> s.put(k, v.intValue()));
        Map<String, Integer> b = new TreeMap<>();
        servedBy.forEach((k, v) -> b.put(k, v.intValue()));
        return new LoadResult(s, b, elapsed, List.copyOf(errors));
    }
}
