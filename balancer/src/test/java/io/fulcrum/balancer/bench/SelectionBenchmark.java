package io.fulcrum.balancer.bench;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.LoadBalancer;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.balancing.RequestInfo;
import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.RoutingConfig.Policy;
import io.fulcrum.balancer.config.RoutingConfig;
import io.fulcrum.balancer.config.SpilloverConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The per-request cost of choosing a backend: {@link LoadBalancer#select} on a snapshot built by
 * {@link BackendRegistry} exactly as the proxy gets it (system clock, thread-local random), over 3,
 * 30 and 300 backends. Two thirds of the backends are local, one third in a second region; each
 * has answered once and holds a few requests, so least-busy compares real costs. {@code retry}
 * adds one excluded backend, as a retried request does. Run with {@code scripts/jmh.sh}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SelectionBenchmark {
    @Param({"3", "30", "300"})
    public int backends;

    @Param({"LEAST_BUSY", "ROUND_ROBIN"})
    public Policy policy;

    private LoadBalancer loadBalancer;
    private RequestInfo retry;

    @Setup(Level.Trial)
    public void setUp() {
        List<BackendConfig> configs = new ArrayList<>(backends);
        for (int i = 0; i < backends; i++) {
            String region = i % 3 == 2 ? "eu-west" : "us-east";
            configs.add(new BackendConfig("b" + i, "127.0.0.1", 10_000 + i, region, 1 + i % 3, 1000));
        }
        RoutingConfig routing = new RoutingConfig(policy, null, new SpilloverConfig(0.8, List.of()),
                Duration.ofSeconds(30));
        BackendRegistry registry = new BackendRegistry("us-east", routing, configs);
        SplittableRandom random = new SplittableRandom(1);
        for (Backend b : registry.current().backends()) {
            b.tryAcquire();
            b.state().onRequestEnd(TimeUnit.MICROSECONDS.toNanos(200 + random.nextInt(800)), Outcome.SUCCESS);
            for (int k = random.nextInt(8); k > 0; k--) {
                b.tryAcquire();
            }
        }
        loadBalancer = registry.current().loadBalancer();
        retry = new RequestInfo(null, List.of(registry.current().backends().get(0)));
    }

    @Benchmark
    public Backend select() {
        return loadBalancer.select(RequestInfo.DEFAULT);
    }

    @Benchmark
    public Backend retry() {
        return loadBalancer.select(retry);
    }
}
