package io.fulcrum.balancer;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.accesslog.AccessLog;
import io.fulcrum.balancer.admin.AdminServer;
import io.fulcrum.balancer.admin.AdminServices;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ClientCertificatesConfig;
import io.fulcrum.balancer.config.TlsConfig;
import io.fulcrum.balancer.connections.ConnectionPool;
import io.fulcrum.balancer.connections.Transport;
import io.fulcrum.balancer.discovery.Discovery;
import io.fulcrum.balancer.edge.RedisBuckets;
import io.fulcrum.balancer.exchange.AdmissionQueue;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.fulcrum.balancer.exchange.ProxySettings;
import io.fulcrum.balancer.exchange.RetryBudget;
import io.fulcrum.balancer.health.HealthCheckScheduler;
import io.fulcrum.balancer.health.OutlierDetector;
import io.fulcrum.balancer.metrics.BalancerMetrics;
import io.fulcrum.balancer.server.ProxyServer;
import io.fulcrum.balancer.tls.HandshakeFailures;
import io.fulcrum.balancer.tls.OcspStapler;
import io.fulcrum.balancer.tls.TlsContexts;
import io.fulcrum.balancer.tls.TlsTerminator;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running balancer: its event loops, pools (their registries, health checks and outlier
 * detectors; {@link Pools}), router, traffic server, metrics, admin server
 * and config reloader, built from one config. The wiring lives here so that the command line and
 * the tests start exactly the same thing. {@link #start()} and {@link #stop()} are for the main
 * thread; snapshot swaps after start-up (reload, drain, enable) run on the single control thread
 * created here.
 */
public final class Balancer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Balancer.class);
    /** How often the TLS certificate and key files are checked for changes. */
    private static final Duration CERTIFICATE_CHECK = Duration.ofSeconds(5);
    /** Editors write a file in several steps; changes this close together give one reload. */
    private static final Duration RELOAD_DEBOUNCE = Duration.ofMillis(200);

    private final BalancerConfig config;
    private final Path configFile;
    private final int workerThreads;
    private final Transport transport;
    private EventLoopGroup workerGroup;
    private EventLoopGroup adminGroup;
    /** Probe I/O only; never carries proxied traffic. */
    private EventLoopGroup healthGroup;
    /** The control thread: health decisions, ejections, reloads and snapshot rebuilds (STYLE rule 16). */
    private ScheduledExecutorService control;
    private Pools pools;
    private ProxyContext proxy;
    private ProxyServer server;
    private PrometheusMeterRegistry meterRegistry;
    private BalancerMetrics metrics;
    private ConfigReloader reloader;
    /** The backends of pools with {@code discovery}: from DNS or a watched file. */
    private Discovery discovery;
    private AdminServer admin;
    /** The fleet's rate-limit buckets, or {@code null} without a {@code redis} section. */
    private RedisBuckets rateLimitStore;
    private OcspStapler ocsp;

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
        this.transport = Transport.choose(Transport.Kind.of(config.transport()));
        if (transport.note() != null) {
            log.info("transport {}: {}", transport.name(), transport.note());
        }
    }

    /** The socket transport this balancer runs on. */
    public Transport transport() {
        return transport;
    }

    public Balancer start() throws InterruptedException {
        // First, so that an access-log file that cannot be opened stops the start with nothing to undo.
        AccessLog accessLog = AccessLog.create(config.accessLog(),
                AccessLog.Format.valueOf(config.accessLogFormat().toUpperCase(Locale.ROOT)));
        workerGroup = transport.newGroup("fulcrum-io", workerThreads);
        healthGroup = transport.newGroup("fulcrum-health", 1);
        control = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("fulcrum-control", true));
        discovery = new Discovery(control, (pool, backends) -> {
            Pools.Live live = pools.all().get(pool);
            if (live != null) {
                live.registry().update(config().region(), live.config().routing(), backends);
            }
        });
        try {
            discovery.configure(config, name -> List.of());
        } catch (ConfigException | IOException e) {
            throw stopFailed("cannot discover backends", e);
        }
        pools = new Pools(config, control, healthGroup, transport, discovery::backends);
        meterRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics = new BalancerMetrics(meterRegistry).transport(transport.name());
        discovery.bindMetrics(meterRegistry);
        ConnectionPool pool = ProxyServer.backendPool(config, transport);
        // Connections follow addresses: a backend removed or re-addressed by a reload loses its
        // idle pooled connections at the swap (requests in progress finish). The addresses kept
        // are those of every pool.
        Runnable retain = () -> pool.retainOnly(poolKeys(pools));
        pools.onAdded(live -> {
            live.registry().subscribe(snapshot -> retain.run());
            metrics.bindPool(live.config().name(), live.registry());
            RetryBudget budget = live.proxy().retryBudget();
            metrics.bindRetryBudget(live.config().name(), budget::activeRetries, budget::refusedRetries);
            AdmissionQueue queue = live.proxy().queue();
            queue.recordWaitsTo(metrics.bindQueue(live.config().name(), queue::length, queue::timedOut,
                    queue::refusedFull));
            // A pool added by a reload: its addresses are pooled from now on.
            retain.run();
        });
        pools.onRemoved(live -> {
            metrics.unbindPool(live.config().name());
            retain.run();
        });
        retain.run();
        if (config.redis() != null) {
            rateLimitStore = RedisBuckets.start(config.redis());
            metrics.bindRateLimitStore(rateLimitStore::reachable, rateLimitStore::fallbacks, rateLimitStore::failures);
        }
        proxy = new ProxyContext(pools.first().proxy(), pool, ProxySettings.from(config, rateLimitStore), accessLog,
                metrics.requests(), NanoClock.SYSTEM);
        proxy.apply(pools.router(config));
        metrics.bindJvm()
                .bindConnections(proxy::clientConnections)
                .bindBackendConnections(pool::openConnections)
                .bindAccessLogDrops(proxy.accessLog()::dropped)
                .bindEdge(proxy::rateLimited, () -> proxy.settings().rateLimitKeys(), proxy::proxyHeadersRefused)
                .bindAccess(proxy::accessRefused, proxy::responsesTooLarge)
                .bindTlsHandshakeFailures(HandshakeFailures.reasons(), proxy.handshakeFailures()::count)
                .bindClientLimits(proxy::headTimeouts, proxy::perClientRefused, proxy::perClientAddresses)
                .configLoaded(config.hash());
        server = new ProxyServer(config, proxy, transport, workerGroup);
        try {
            server.start();
            if (configFile != null) {
                reloader = new ConfigReloader(configFile, config, pools, proxy, rateLimitStore, metrics, control);
                reloader.addApplier(next -> discovery.configure(next, name -> {
                    Pools.Live live = pools.all().get(name);
                    return live == null ? List.of()
                            : live.registry().current().backends().stream().map(Backend::config).toList();
                }));
            }
            adminGroup = transport.newGroup("fulcrum-admin", 1);
            admin = new AdminServer(config.admin(), new AdminServices(registry(), proxy, meterRegistry, reloader, control,
                    this::config, pools::registries, transport.name(), rateLimitStore),
                    transport, adminGroup);
            // The admin server adds "at least one backend routable" to this itself.
            admin.setReadiness(pools::firstRoundComplete);
            admin.start();
            if (reloader != null) {
                reloader.watch(RELOAD_DEBOUNCE);
                TlsTerminator tls = server.tls();
                if (tls != null) {
                    reloader.addApplier(next -> {
                        if (next.tls() != null) {
                            tls.update(next.tls());
                        }
                    });
                    control.scheduleWithFixedDelay(this::reloadIfCertificatesChanged, CERTIFICATE_CHECK.toMillis(),
                            CERTIFICATE_CHECK.toMillis(), TimeUnit.MILLISECONDS);
                }
            }
        } catch (RuntimeException | InterruptedException e) {
            stop(Duration.ZERO);
            throw e;
        } catch (javax.net.ssl.SSLException e) {
            throw stopFailed("cannot use the TLS certificates", e);
        } catch (IOException e) {
            throw stopFailed("cannot watch " + configFile, e);
        }
        startOcsp();
        pools.start();
        try {
            discovery.start();
        } catch (IOException e) {
            throw stopFailed("cannot watch a backends file", e);
        }
        return this;
    }

    /** OCSP staples for the HTTPS listener's certificates, fetched on the control thread, where asked and possible. */
    private void startOcsp() {
        TlsTerminator tls = server.tls();
        if (tls == null || !config.tls().ocspStapling()) {
            return;
        }
        ocsp = new OcspStapler(control);
        if (tls.staple(ocsp)) {
            metrics.bindOcsp(ocsp::fetched, ocsp::failed, ocsp::stapled);
        }
    }

    /** Stops what {@link #start()} had started, and returns the failure to throw. */
    private IllegalStateException stopFailed(String what, Exception cause) throws InterruptedException {
        stop(Duration.ZERO);
        return new IllegalStateException(what + ": " + cause.getMessage(), cause);
    }

    /**
     * Reloads when a certificate or key file of the config in force changed (renewed in place, as
     * certbot and cert-manager do), so new connections get the new certificate without a restart.
     * Runs on the control thread.
     */
    private void reloadIfCertificatesChanged() {
        TlsConfig tls = reloader.current().tls();
        if (tls == null) {
            return;
        }
        for (TlsConfig.Certificate c : tls.certificates()) {
            String now;
            try {
                now = TlsContexts.fingerprint(c.chain(), c.key());
            } catch (IOException e) {
                // Being replaced, or gone: the reload that follows a complete file reports it.
                continue;
            }
            if (!now.equals(c.fingerprint())) {
                reloader.reload("certificate files changed");
                return;
            }
        }
        ClientCertificatesConfig clients = tls.clientCertificates();
        if (clients.caFile() != null) {
            try {
                if (!ClientCertificatesConfig.digest(Files.readAllBytes(clients.caFile())).equals(clients.caFingerprint())) {
                    reloader.reload("client CA file changed");
                }
            } catch (IOException e) {
                // Being replaced, or gone: the reload that follows a complete file reports it.
            }
        }
    }

    private static Set<String> poolKeys(Pools pools) {
        Set<String> keys = new HashSet<>();
        for (Pools.Live live : pools.all().values()) {
            for (Backend b : live.registry().current().backends()) {
                keys.add(b.poolKey());
            }
        }
        return keys;
    }

    /**
     * Readiness: the first round of health checks has answered and at least one backend is
     * routable. Thread-safe; for the admin server's {@code /ready}.
     */
    public boolean ready() {
        return pools != null && pools.firstRoundComplete() && pools.all().values().stream()
                .anyMatch(p -> p.registry().current().backends().stream().anyMatch(b -> b.state().routable()));
    }

    /** The first pool's health checks. */
    public HealthCheckScheduler healthChecks() {
        return pools == null ? null : pools.first().health();
    }

    /** The first pool's outlier detector. */
    public OutlierDetector outlierDetector() {
        return pools == null ? null : pools.first().outlier();
    }

    /** Backends in every pool now (discovered ones included). */
    public int backendCount() {
        return pools.all().values().stream().mapToInt(p -> p.registry().current().backends().size()).sum();
    }

    /** The registry of the pool named {@code name}, or {@code null} when there is none. */
    public BackendRegistry registry(String name) {
        Pools.Live live = pool(name);
        return live == null ? null : live.registry();
    }

    /** The outlier detector of the pool named {@code name}, or {@code null} when there is none. */
    public OutlierDetector outlierDetector(String name) {
        Pools.Live live = pool(name);
        return live == null ? null : live.outlier();
    }

    private Pools.Live pool(String name) {
        return pools == null ? null : pools.all().get(name);
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

    /** The bound HTTPS port, or -1 when the config has no {@code tls} listener. */
    public int tlsPort() {
        return server.tlsPort();
    }

    /** The backend discovery (idle unless the config has {@code discovery}). */
    public Discovery discovery() {
        return discovery;
    }

    /** The first pool's registry (the pool {@code default} of a file without {@code pools}). */
    public BackendRegistry registry() {
        return pools == null ? null : pools.first().registry();
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
        if (pools != null) {
            pools.close();
        }
        if (discovery != null) {
            discovery.close();
        }
        if (server != null) {
            server.stop(drain);
        }
        if (admin != null) {
            admin.stop();
        }
        if (ocsp != null) {
            ocsp.close();
        }
        if (control != null) {
            control.shutdownNow();
            if (!control.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("control thread did not stop within 5s");
            }
        }
        shutdownGroups();
        if (rateLimitStore != null) {
            rateLimitStore.close();
        }
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
        for (EventLoopGroup group : new EventLoopGroup[] {adminGroup, healthGroup, workerGroup}) {
            if (group != null) {
                group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            }
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
