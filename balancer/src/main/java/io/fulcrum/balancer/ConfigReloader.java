package io.fulcrum.balancer;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.admin.ConfigReloads;
import io.fulcrum.balancer.admin.ReloadResult;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.BalancerSchema;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import io.fulcrum.balancer.config.PoolConfig;
import io.fulcrum.balancer.edge.RedisBuckets;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.fulcrum.balancer.exchange.ProxySettings;
import io.fulcrum.balancer.metrics.BalancerMetrics;
import io.fulcrum.balancer.tls.TlsCertificateCheck;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hot reload of the YAML config: read the file, validate it completely, then swap. A config that
 * fails validation changes nothing; the previous one stays in force, the failure is logged once
 * and counted in {@code fulcrum.config.reload.failures}, and its problems (each naming the YAML
 * path and line) are kept for {@code POST /reload} and {@code GET /config/status}.
 *
 * <p>What a reload applies live: the pools (added and removed ones too) and routes, each pool's
 * backends, region and routing (a new snapshot; backends
 * that keep their id keep their live state, and requests in flight finish on the backend they
 * hold), the request-path settings (timeouts, body limit, retries, headers), the retry budget and
 * {@code max-connections}. Sockets and pipeline shapes fixed at start-up (listen and admin
 * addresses, header limits, connect and idle timeouts, health and outlier settings, the access
 * log) are reported as needing a restart.
 *
 * <p>Triggers: {@link #reload} (the admin API), SIGHUP ({@link #installSignalHandler()}) and file
 * changes ({@link #watch}): of the config file, and of the files it names to be read with it
 * (basic authentication's users files). Every reload runs on the single control thread, so reloads never
 * overlap. Thread-safe.
 */
public final class ConfigReloader implements ConfigReloads, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

    private final Path file;
    private final Pools pools;
    private final RedisBuckets rateLimitStore;
    private final ProxyContext proxy;
    private final BalancerMetrics metrics;
    private static final Duration WATCH_PERIOD = Duration.ofSeconds(1);

    private final ScheduledExecutorService control;
    /** The config the process started with: what its sockets and pipelines were built from. */
    private final BalancerConfig startup;
    /** Written only on the control thread. */
    private volatile BalancerConfig current;
    private volatile ReloadResult lastResult;
    /**
     * The last rejected reload's problems, so that a repeat says it is the same failure (control
     * thread only); every rejected reload is logged, whatever triggered it.
     */
    private List<String> lastLoggedProblems = List.of();
    private final Object watchLock = new Object();
    /** The periodic look at the file, while watching. */
    private ScheduledFuture<?> watching;
    /** The file and the files it names, as last seen by {@link #look} (control thread only). */
    private List<FileState> lastSeen;
    private ScheduledFuture<?> pendingFileReload;

    /** @param rateLimitStore the fleet's rate-limit buckets, or {@code null} when there is no {@code redis} */
    ConfigReloader(Path file, BalancerConfig initial, Pools pools, ProxyContext proxy, RedisBuckets rateLimitStore,
            BalancerMetrics metrics, ScheduledExecutorService control) {
        this.rateLimitStore = rateLimitStore;
        this.file = requireNonNull(file, "file").toAbsolutePath();
        this.startup = requireNonNull(initial, "initial");
        this.current = initial;
        this.pools = requireNonNull(pools, "pools");
        this.proxy = requireNonNull(proxy, "proxy");
        this.metrics = requireNonNull(metrics, "metrics");
        this.control = requireNonNull(control, "control");
    }

    /**
     * A part of the balancer that applies a new config itself and may refuse it: appliers run
     * before anything else is changed, in the order added, and one that throws rejects the reload.
     */
    @FunctionalInterface
    public interface Applier {
        void apply(BalancerConfig next) throws Exception;
    }

    private final List<Applier> appliers = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Adds a part that applies each new config before the routing and proxy settings change. */
    public void addApplier(Applier applier) {
        appliers.add(requireNonNull(applier, "applier"));
    }

    /** The config file this reloader reads. */
    @Override
    public Path file() {
        return file;
    }

    /** The config in force. */
    public BalancerConfig current() {
        return current;
    }

    /** How the last reload ended, or {@code null} before the first. */
    @Override
    public ReloadResult lastResult() {
        return lastResult;
    }

    /** Queues a reload on the control thread; the future completes with its result. */
    @Override
    public CompletableFuture<ReloadResult> reload(String trigger) {
        requireNonNull(trigger, "trigger");
        try {
            return CompletableFuture.supplyAsync(() -> reloadNow(trigger), control);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private ReloadResult reloadNow(String trigger) {
        BalancerConfig next;
        try {
            next = ConfigLoader.load(file, TlsCertificateCheck.INSTANCE);
        } catch (ConfigException e) {
            return failed(trigger, e.problems());
        }
        BalancerConfig old = current;
        if (next.equals(old)) {
            log.info("config reload ({}): {} unchanged", trigger, file);
            return succeeded(trigger, restartNeeded(startup, next));
        }
        for (Applier applier : appliers) {
            try {
                applier.apply(next);
            } catch (Exception e) {
                return failed(trigger, List.of(file + ": " + e.getMessage()));
            }
        }
        try {
            proxy.apply(pools.apply(next));
            proxy.apply(ProxySettings.reloaded(next, rateLimitStore, proxy.settings()));
        } catch (RuntimeException e) {
            // Validation passed, so this is a bug in applying it; say so rather than half-apply silently.
            return failed(trigger, List.of(file + ": could not apply: " + e));
        }
        current = next;
        List<String> restart = restartNeeded(startup, next);
        if (!restart.isEmpty() && !restart.equals(restartNeeded(startup, old))) {
            log.warn("config reload ({}): changed settings need a restart to take effect: {}", trigger,
                    String.join(", ", restart));
        }
        log.info("config reload ({}): applied {} ({}, generation {})", trigger, file, backendsInForce(),
                generation());
        return succeeded(trigger, restart);
    }

    /**
     * The backends in force now, as the pools hold them: those a pool's discovery found besides
     * those the file lists ("8 backends: 6 static, 2 discovered").
     */
    private String backendsInForce() {
        int listed = 0;
        int discovered = 0;
        for (Pools.Live live : pools.all().values()) {
            int n = live.registry().current().backends().size();
            if (live.config().discovery() != null) {
                discovered += n;
            } else {
                listed += n;
            }
        }
        return (listed + discovered) + " backends: " + listed + " static, " + discovered + " discovered";
    }

    /** The first pool's snapshot generation: it changes with every applied reload. */
    private long generation() {
        return pools.first().registry().current().generation();
    }

    private ReloadResult succeeded(String trigger, List<String> restart) {
        lastLoggedProblems = List.of();
        metrics.reloadSucceeded();
        metrics.configLoaded(current.hash());
        ReloadResult r = new ReloadResult(true, generation(), List.of(), restart, trigger,
                Instant.now());
        lastResult = r;
        return r;
    }

    private ReloadResult failed(String trigger, List<String> problems) {
        metrics.reloadFailed();
        // Every time: whoever sent the signal or the request looks for its answer in the log.
        log.warn("config reload ({}) rejected, keeping the previous config{}: {}", trigger,
                problems.equals(lastLoggedProblems) ? " (unchanged: still failing)" : "", String.join("; ", problems));
        lastLoggedProblems = problems;
        ReloadResult r = new ReloadResult(false, generation(), problems, List.of(), trigger,
                Instant.now());
        lastResult = r;
        return r;
    }

    /**
     * How to read each setting that needs a restart. Which settings those are is declared in
     * {@link BalancerSchema} (each key's reload behaviour); this map only says where each is in the
     * records, and class initialisation fails when the two disagree.
     */
    private static final Map<String, Function<BalancerConfig, Object>> RESTART_SETTINGS = Map.ofEntries(
            Map.entry("listen", BalancerConfig::listen),
            Map.entry("admin.host", c -> c.admin().host()),
            Map.entry("admin.port", c -> c.admin().port()),
            Map.entry("health", BalancerConfig::health),
            Map.entry("outlier", BalancerConfig::outlier),
            Map.entry("timeouts.connect", c -> c.timeouts().connect()),
            Map.entry("timeouts.client-idle", c -> c.timeouts().clientIdle()),
            Map.entry("timeouts.request-head", c -> c.timeouts().requestHead()),
            Map.entry("timeouts.backend-idle", c -> c.timeouts().backendIdle()),
            Map.entry("limits.max-header-bytes", c -> c.limits().maxHeaderBytes()),
            Map.entry("limits.max-uri-bytes", c -> c.limits().maxUriBytes()),
            Map.entry("access-log", BalancerConfig::accessLog),
            Map.entry("transport", BalancerConfig::transport),
            Map.entry("tls.listen", c -> c.tls() == null ? null : c.tls().listen()),
            Map.entry("tls.ocsp-stapling", c -> c.tls() == null ? null : c.tls().ocspStapling()),
            Map.entry("backend-tls", BalancerConfig::backendTls),
            Map.entry("redis", BalancerConfig::redis));
    /** The same within a pool: its own checks and ejection are set up when the pool is. */
    private static final Map<String, Function<PoolConfig, Object>> POOL_RESTART_SETTINGS = Map.of(
            "health", PoolConfig::health,
            "outlier", PoolConfig::outlier);

    static {
        if (!RESTART_SETTINGS.keySet().equals(Set.copyOf(BalancerSchema.restartSettings()))
                || !POOL_RESTART_SETTINGS.keySet().equals(Set.copyOf(BalancerSchema.poolRestartSettings()))) {
            throw new IllegalStateException("ConfigReloader knows the restart settings " + RESTART_SETTINGS.keySet()
                    + " and pools' " + POOL_RESTART_SETTINGS.keySet() + ", BalancerSchema declares "
                    + BalancerSchema.restartSettings() + " and " + BalancerSchema.poolRestartSettings());
        }
    }

    /**
     * The settings that differ between the two and are only read at start-up, in file order: those
     * {@link BalancerSchema} marks as needing a restart, then those of each pool that stays (a new
     * pool gets its own).
     */
    static List<String> restartNeeded(BalancerConfig old, BalancerConfig next) {
        List<String> changed = new ArrayList<>();
        for (String setting : BalancerSchema.restartSettings()) {
            Function<BalancerConfig, Object> read = RESTART_SETTINGS.get(setting);
            addIfChanged(changed, setting, read.apply(old), read.apply(next));
        }
        for (PoolConfig p : next.pools()) {
            PoolConfig before = old.pool(p.name());
            if (before != null && !p.name().equals(PoolConfig.DEFAULT)) {
                for (String setting : BalancerSchema.poolRestartSettings()) {
                    Function<PoolConfig, Object> read = POOL_RESTART_SETTINGS.get(setting);
                    addIfChanged(changed, "pools." + p.name() + "." + setting, read.apply(before), read.apply(p));
                }
            }
        }
        return changed;
    }

    private static void addIfChanged(List<String> changed, String name, Object a, Object b) {
        if (!Objects.equals(a, b)) {
            changed.add(name);
        }
    }

    /**
     * Reloads when the file changes. The control thread looks at the file once a second (its
     * modification time, size and identity, links followed, so an editor's write-and-rename and a
     * Kubernetes ConfigMap's {@code ..data} symlink swap are seen too); a change gives one reload
     * {@code debounce} after the last change seen. A look costs one {@code stat}: unlike a watch
     * on the directory, files written beside the config (an access log) cost nothing.
     */
    public void watch(Duration debounce) throws IOException {
        requireNonNull(debounce, "debounce");
        synchronized (watchLock) {
            if (watching != null) {
                throw new IllegalStateException("already watching " + file);
            }
            lastSeen = fingerprint();
            watching = control.scheduleWithFixedDelay(() -> look(debounce), WATCH_PERIOD.toNanos(),
                    WATCH_PERIOD.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * What the file is now, and each file the config in force names to be re-read with it (a users
     * file; {@code null} while one cannot be read), or {@code null} while the file itself cannot be
     * read (mid-rename).
     */
    private List<FileState> fingerprint() {
        FileState own = fingerprint(file);
        if (own == null) {
            return null;
        }
        List<FileState> all = new ArrayList<>();
        all.add(own);
        for (Path named : current.namedFiles()) {
            all.add(fingerprint(named));
        }
        return all;
    }

    private static FileState fingerprint(Path file) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            return new FileState(a.lastModifiedTime().toMillis(), a.size(), a.fileKey());
        } catch (IOException e) {
            return null;
        }
    }

    private record FileState(long modifiedMillis, long size, Object key) {
    }

    private void look(Duration debounce) {
        List<FileState> now = fingerprint();
        if (now != null && !now.equals(lastSeen)) {
            lastSeen = now;
            scheduleFileReload(debounce);
        }
    }

    private void scheduleFileReload(Duration debounce) {
        synchronized (watchLock) {
            if (watching == null) {
                return;
            }
            if (pendingFileReload != null) {
                pendingFileReload.cancel(false);
            }
            try {
                pendingFileReload = control.schedule(() -> reloadNow("file change"), debounce.toNanos(),
                        TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                pendingFileReload = null;
            }
        }
    }

    /**
     * Reloads on SIGHUP, the Unix convention for "re-read your config". Uses {@code sun.misc.Signal}
     * through reflection: it is the only JDK hook for signals, it is absent or refuses HUP on some
     * platforms (Windows, {@code -Xrs}), and a direct reference draws an unsuppressible compiler
     * warning.
     *
     * <p>A process started with SIGHUP ignored (under {@code nohup}, or by a supervisor that sets it
     * so) cannot take it back: the JVM keeps the signal ignored and a handler would never run. That
     * is said in the log at start, instead of a handler that never fires.
     *
     * @return whether the handler was installed and SIGHUP will reach it
     */
    public boolean installSignalHandler() {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
            Object hup = signalClass.getConstructor(String.class).newInstance("HUP");
            Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[] {handlerClass},
                    (self, method, args) -> onSignalHandlerCall(self, method, args));
            Object previous = signalClass.getMethod("handle", signalClass, handlerClass).invoke(null, hup, handler);
            if (previous != null && previous == handlerClass.getField("SIG_IGN").get(null)) {
                log.warn("SIGHUP is ignored by this process (started under nohup?), so it cannot trigger a reload;"
                        + " use POST /reload on the admin port or edit the config file");
                return false;
            }
            log.info("SIGHUP reloads the config");
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log.warn("SIGHUP reload not available here ({}); use POST /reload or edit the file", e.toString());
            return false;
        }
    }

    private Object onSignalHandlerCall(Object self, Method method, Object[] args) {
        switch (method.getName()) {
            case "handle":
                reload("SIGHUP");
                return null;
            case "equals":
                return self == args[0];
            case "hashCode":
                return System.identityHashCode(self);
            default:
                return "ConfigReloader SIGHUP handler";
        }
    }

    /** Stops watching the file. Reloads already queued still run if the control thread does. */
    @Override
    public void close() {
        synchronized (watchLock) {
            if (pendingFileReload != null) {
                pendingFileReload.cancel(false);
            }
            if (watching != null) {
                watching.cancel(false);
                watching = null;
            }
        }
    }
}
