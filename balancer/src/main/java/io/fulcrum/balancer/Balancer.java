package io.fulcrum.balancer;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.admin.AdminServer;
import io.fulcrum.balancer.admin.AdminServices;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.health.HealthCheckScheduler;
import io.fulcrum.balancer.health.HealthTracker;
import io.fulcrum.balancer.health.HttpHealthChecker;
import io.fulcrum.balancer.health.OutlierDetector;
import io.fulcrum.balancer.metrics.BalancerMetrics;
import io.fulcrum.balancer.pool.ConnectionPool;
import io.fulcrum.balancer.proxy.AccessLog;
import io.fulcrum.balancer.proxy.ProxyContext;
import io.fulcrum.balancer.proxy.ProxyServer;
import io.fulcrum.balancer.proxy.ProxySettings;
import io.fulcrum.balancer.proxy.RetryBudget;
import io.fulcrum.balancer.proxy.Transport;
import io.fulcrum.balancer.routing.Backend;
import io.fulcrum.balancer.routing.BackendRegistry;
import io.fulcrum.balancer.routing.BackendSnapshot;
import io.fulcrum.balancer.routing.NanoClock;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running balancer: its event loops, backend registry, traffic server, metrics, admin server
 * and config reloader, built from one config. The wiring lives here so that the command line and
 * the tests start exactly the same thing. {@link #start()} and {@link #stop()} are for the main
 * thread; snapshot swaps after start-up (reload, drain, enable) run on the single control thread
 * created here.
 */
public final class Balancer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Balancer.class);
    /** Editors write a file in several steps; changes this close together give one reload. */
    private static final Duration RELOAD_DEBOUNCE = Duration.ofMillis(200);

    private final BalancerConfig config;
    private final Path configFile;
    private final int workerThreads;
    private final Transport transport = Transport.detect();
    private EventLoopGroup acceptGroup;
    private EventLoopGroup workerGroup;
    private EventLoopGroup adminGroup;
    /** Probe I/O only; never carries proxied traffic. */
    private EventLoopGroup healthGroup;
    /** The control thread: health decisions, ejections, reloads and snapshot rebuilds (STYLE rule 16). */
    private ScheduledExecutorService control;
    private HealthCheckScheduler healthChecks;
    private OutlierDetector outlierDetector;
    private BackendRegistry registry;
    private ProxyContext proxy;
    private ProxyServer server;
    private PrometheusMeterRegistry meterRegistry;
    private BalancerMetrics metrics;
    private ConfigReloader reloader;
    private AdminServer admin;

    /**
     * A balancer without a config file: {@code POST /reload} answers 400 and nothing is watched.
     *
     * @param workerThreads event loops for client and backend connections; 0 means one per core
     */
    public Balancer(BalancerConfig config, int workerThreads) {
        this(config, workerThreads, null);
    }

    /**
     * @param workerThreads event loops for client and backend connections; 0 means one per core
     * @param configFile the file {@code config} was loaded from, re-read on reload and watched for
     *     changes; {@code null} for none
     */
    public Balancer(BalancerConfig config, int workerThreads, Path configFile) {
        this.config = requireNonNull(config, "config");
        this.configFile = configFile;
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
        meterRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics = new BalancerMetrics(meterRegistry);
        ConnectionPool pool = ProxyServer.backendPool(config, transport);
        // Connections follow addresses: a backend removed or re-addressed by a reload loses its
        // idle pooled connections at the swap (requests in progress finish).
        pool.retainOnly(poolKeys(registry.current()));
        registry.subscribe(snapshot -> pool.retainOnly(poolKeys(snapshot)));
        proxy = new ProxyContext(registry, pool, ProxySettings.from(config), new RetryBudget(), outlierDetector,
                AccessLog.create(config.accessLog(), AccessLog.Format.valueOf(config.accessLogFormat().toUpperCase(
                        java.util.Locale.ROOT))), metrics.requests(), NanoClock.SYSTEM);
        metrics.bindJvm()
                .bindBackends(registry)
                .bindConnections(proxy::clientConnections)
                .bindBackendConnections(pool::openConnections)
                .bindActiveRetries(proxy.retryBudget()::activeRetries)
                .bindBudgetRefusals(proxy.retryBudget()::refusedRetries)
                .bindAccessLogDrops(proxy.accessLog()::dropped)
                .configLoaded(config.hash());
        server = new ProxyServer(config, proxy, transport, acceptGroup, workerGroup);
        try {
            server.start();
            if (configFile != null) {
                reloader = new ConfigReloader(configFile, config, registry, proxy, metrics, control);
            }
            adminGroup = transport.newGroup("fulcrum-admin", 1);
            admin = new AdminServer(config.admin(), new AdminServices(registry, proxy, meterRegistry, reloader, control,
                    this::config),
                    transport, adminGroup);
            // The admin server adds "at least one backend routable" to this itself.
            admin.setReadiness(healthChecks::firstRoundComplete);
            admin.start();
            if (reloader != null) {
                reloader.watch(RELOAD_DEBOUNCE);
            }
        } catch (RuntimeException | InterruptedException e) {
            stop(Duration.ZERO);
            throw e;
        } catch (IOException e) {
            stop(Duration.ZERO);
            throw new IllegalStateException("cannot watch " + configFile + ": " + e.getMessage(), e);
        }
        healthChecks.start();
        return this;
    }

    private static Set<String> poolKeys(BackendSnapshot snapshot) {
        Set<String> keys = new HashSet<>();
        for (Backend b : snapshot.backends()) {
            keys.add(b.poolKey());
        }
        return keys;
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

    /** The admin port actually bound. */
    public int adminPort() {
        return admin.port();
    }

    /** The admin server (to set its readiness condition). */
    public AdminServer admin() {
        return admin;
    }

    /** The registry {@code /metrics} scrapes. */
    public PrometheusMeterRegistry meterRegistry() {
        return meterRegistry;
    }

    /** The config reloader, or {@code null} when started without a config file. */
    public ConfigReloader reloader() {
        return reloader;
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

    /** The config in force: the last one reloaded, or the one started with. */
    public BalancerConfig config() {
        return reloader != null ? reloader.current() : config;
    }

    /** Graceful stop with the configured drain timeout. */
    public void stop() throws InterruptedException {
        stop(config().timeouts().drain());
    }

    /**
     * Stops watching the config, drains the traffic port, then closes the admin port (so that
     * monitoring sees the drain), the control thread and the loops.
     */
    public void stop(Duration drain) throws InterruptedException {
        if (reloader != null) {
            reloader.close();
        }
        if (healthChecks != null) {
            healthChecks.close();
        }
        if (server != null) {
            server.stop(drain);
        }
        if (admin != null) {
            admin.stop();
        }
        if (control != null) {
            control.shutdownNow();
            if (!control.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("control thread did not stop within 5s");
            }
        }
        shutdownGroups();
        if (proxy != null) {
            proxy.accessLog().close();
        }
        if (metrics != null) {
            metrics.close();
        }
        if (meterRegistry != null) {
            meterRegistry.close();
        }
    }

    private void shutdownGroups() {
        if (adminGroup != null) {
            adminGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
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
    public void close() {
        try {
            stop(Duration.ZERO);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
