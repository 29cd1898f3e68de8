package io.fulcrum.balancer;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.health.HealthCheckScheduler;
import io.fulcrum.balancer.health.HealthTracker;
import io.fulcrum.balancer.health.HttpHealthChecker;
import io.fulcrum.balancer.health.OutlierDetector;
import io.fulcrum.balancer.proxy.AccessLog;
import io.fulcrum.balancer.proxy.ProxyContext;
import io.fulcrum.balancer.proxy.ProxyServer;
import io.fulcrum.balancer.proxy.ProxySettings;
import io.fulcrum.balancer.proxy.RetryBudget;
import io.fulcrum.balancer.proxy.Transport;
import io.fulcrum.balancer.routing.BackendRegistry;
import io.fulcrum.balancer.routing.NanoClock;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One running balancer: its event loops, backend registry and traffic server, built from one
 * config. The wiring lives here so that the command line and the tests start exactly the same
 * thing. {@link #start()} and {@link #stop()} are for the control thread.
 */
public final class Balancer implements AutoCloseable {
    private final BalancerConfig config;
    private final int workerThreads;
    private final Transport transport = Transport.detect();
    private EventLoopGroup acceptGroup;
    private EventLoopGroup workerGroup;
    /** Probe I/O only; never carries proxied traffic. */
    private EventLoopGroup healthGroup;
    /** The control thread: health decisions, ejections and snapshot rebuilds (STYLE rule 16). */
    private ScheduledExecutorService control;
    private HealthCheckScheduler healthChecks;
    private OutlierDetector outlierDetector;
    private BackendRegistry registry;
    private ProxyContext proxy;
    private ProxyServer server;

    /**
     * @param workerThreads event loops for client and backend connections; 0 means one per core
     */
    public Balancer(BalancerConfig config, int workerThreads) {
        this.config = requireNonNull(config, "config");
        this.workerThreads = workerThreads > 0 ? workerThreads : Runtime.getRuntime().availableProcessors();
    }

    public Balancer start() throws InterruptedException {
        acceptGroup = transport.newGroup("fulcrum-accept", 1);
        workerGroup = transport.newGroup("fulcrum-io", workerThreads);
        healthGroup = transport.newGroup("fulcrum-health", 1);
        control = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("fulcrum-control", true));
        registry = new BackendRegistry(config.region(), config.routing(), config.backends());
        outlierDetector = new OutlierDetector(registry, config.outlier(), control, NanoClock.SYSTEM);
        HealthTracker tracker = new HealthTracker(config.health().rise(), config.health().fall());
        tracker.subscribe(outlierDetector::onHealthTransition);
        healthChecks = new HealthCheckScheduler(registry,
                new HttpHealthChecker(healthGroup, transport.socketChannel(), config.health().path(),
                        config.health().timeout()),
                tracker, config.health(), control, new SplittableRandom());
        proxy = new ProxyContext(registry, ProxySettings.from(config), config.limits().maxConnections(),
                new RetryBudget(config.retry().budgetPercent()), outlierDetector);
        proxy.setAccessLog(AccessLog.create(config.accessLog()));
        server = new ProxyServer(config, proxy, transport, acceptGroup, workerGroup);
        try {
            server.start();
        } catch (RuntimeException | InterruptedException e) {
            shutdownGroups();
            throw e;
        }
        healthChecks.start();
        return this;
    }

    /**
     * Readiness: the first round of health checks has answered and at least one backend is
     * routable. Thread-safe; for the admin server's {@code /ready}.
     */
    public boolean ready() {
        return healthChecks != null && healthChecks.firstRoundComplete()
                && registry.current().backends().stream().anyMatch(b -> b.state().routable());
    }

    public HealthCheckScheduler healthChecks() {
        return healthChecks;
    }

    public OutlierDetector outlierDetector() {
        return outlierDetector;
    }

    /** The traffic port actually bound. */
    public int port() {
        return server.port();
    }

    public BackendRegistry registry() {
        return registry;
    }

    public ProxyContext proxy() {
        return proxy;
    }

    public BalancerConfig config() {
        return config;
    }

    /** Graceful stop with the configured drain timeout. */
    public void stop() throws InterruptedException {
        stop(config.timeouts().drain());
    }

    public void stop(Duration drain) throws InterruptedException {
        if (healthChecks != null) {
            healthChecks.close();
        }
        if (server != null) {
            server.stop(drain);
        }
        shutdownGroups();
        if (proxy != null) {
            proxy.accessLog().close();
        }
    }

    private void shutdownGroups() {
        if (control != null) {
            control.shutdownNow();
        }
        if (healthGroup != null) {
            healthGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (acceptGroup != null) {
            acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop(Duration.ZERO);
    }
}
