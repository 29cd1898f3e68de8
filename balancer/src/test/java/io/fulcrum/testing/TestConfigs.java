package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.HealthConfig;
import io.fulcrum.balancer.config.LimitsConfig;
import io.fulcrum.balancer.config.ListenConfig;
import io.fulcrum.balancer.config.OutlierConfig;
import io.fulcrum.balancer.config.RetryConfig;
import io.fulcrum.balancer.config.RoutingConfig;
import io.fulcrum.balancer.config.SpilloverConfig;
import io.fulcrum.balancer.config.TimeoutsConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds {@link BalancerConfig} records for tests: listen and admin on 127.0.0.1 port 0, short
 * timeouts, access log off, round-robin, no retries unless asked. Not thread safe; build on one
 * thread.
 */
public final class TestConfigs {
    private final List<BackendConfig> backends = new ArrayList<>();
    private Duration connect = Duration.ofSeconds(2);
    private Duration response = Duration.ofSeconds(10);
    private Duration clientIdle = Duration.ofSeconds(30);
    private Duration backendIdle = Duration.ofSeconds(30);
    private Duration drain = Duration.ofSeconds(2);
    private int maxHeaderBytes = 16384;
    private int maxUriBytes = 8192;
    private long maxBodyBytes = 10L * 1024 * 1024;
    private int maxConnections = 1000;
    private int retryAttempts;
    private int replayBodyBytes = 65536;
    private String backendHeader;

    private TestConfigs() {
    }

    /** A builder with the test defaults and no backends yet. */
    public static TestConfigs builder() {
        return new TestConfigs();
    }

    /** Adds a backend on 127.0.0.1 at {@code port}, named {@code b<index>}. */
    public TestConfigs backend(int port) {
        return backend("b" + (backends.size() + 1), "127.0.0.1", port);
    }

    public TestConfigs backend(String id, String host, int port) {
        backends.add(new BackendConfig(requireNonNull(id, "id"), requireNonNull(host, "host"), port, "local", 1, 512));
        return this;
    }

    public TestConfigs connectTimeout(Duration d) {
        this.connect = requireNonNull(d, "d");
        return this;
    }

    public TestConfigs responseTimeout(Duration d) {
        this.response = requireNonNull(d, "d");
        return this;
    }

    public TestConfigs clientIdle(Duration d) {
        this.clientIdle = requireNonNull(d, "d");
        return this;
    }

    public TestConfigs backendIdle(Duration d) {
        this.backendIdle = requireNonNull(d, "d");
        return this;
    }

    public TestConfigs maxHeaderBytes(int n) {
        this.maxHeaderBytes = n;
        return this;
    }

    public TestConfigs maxUriBytes(int n) {
        this.maxUriBytes = n;
        return this;
    }

    public TestConfigs maxBodyBytes(long n) {
        this.maxBodyBytes = n;
        return this;
    }

    public TestConfigs maxConnections(int n) {
        this.maxConnections = n;
        return this;
    }

    public TestConfigs retryAttempts(int n) {
        this.retryAttempts = n;
        return this;
    }

    public TestConfigs backendHeader(String name) {
        this.backendHeader = name;
        return this;
    }

    public BalancerConfig build() {
        return new BalancerConfig(
                new ListenConfig("127.0.0.1", 0),
                new ListenConfig("127.0.0.1", 0),
                "local",
                new RoutingConfig(RoutingConfig.Policy.ROUND_ROBIN, null, new SpilloverConfig(0.8, List.of()),
                        Duration.ZERO),
                backends,
                // Active checks off: tests count every request and connection at their backends.
                new HealthConfig("/health", Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3, false),
                new OutlierConfig(5, Duration.ofSeconds(10), Duration.ofSeconds(300), 50),
                new RetryConfig(retryAttempts, 100, replayBodyBytes, null),
                new TimeoutsConfig(connect, response, clientIdle, backendIdle, drain),
                new LimitsConfig(maxHeaderBytes, maxUriBytes, maxBodyBytes, maxConnections),
                "off",
                backendHeader);
    }
}
