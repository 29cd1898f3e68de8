package io.fulcrum.balancer.discovery;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.BackendsFile;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.DiscoveryConfig;
import io.fulcrum.balancer.config.PoolConfig;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backends of the pools whose {@code discovery} replaces a static {@code backends} list: per
 * pool, the last known set from DNS ({@link DnsSource}) or a watched file, and every change handed
 * to the balancer on the control thread, where it is applied as a reload of that pool is (new
 * backends slow-start, removed ones get no new requests and finish those they hold, backends that
 * stay keep their live state). A failed resolution or an unreadable or invalid file keeps the last
 * known set; it is logged (once per distinct problem) and counted in
 * {@code fulcrum.discovery.failures}.
 *
 * <p>DNS queries run on a one-thread event loop of their own ({@code fulcrum-discovery}), never on
 * a traffic loop; file reads run on the control thread. {@link #configure}, {@link #start} and the
 * sources' results run on the control thread (or the main thread before start);
 * {@link #backends} may be read from any thread.
 */
public final class Discovery implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Discovery.class);
    /** Editors write a file in several steps; changes this close together give one read. */
    private static final Duration FILE_DEBOUNCE = Duration.ofMillis(100);

    private final ScheduledExecutorService control;
    private final BiConsumer<String, List<BackendConfig>> apply;
    private final AtomicLong dnsFailures = new AtomicLong();
    private final AtomicLong fileFailures = new AtomicLong();
    /** By pool name; only pools with discovery. */
    private final Map<String, Source> sources = new ConcurrentHashMap<>();
    private boolean started;
    private EventLoopGroup dnsGroup;

    /**
     * @param apply applies a changed set to the named pool; called on the control thread
     */
    public Discovery(ScheduledExecutorService control, BiConsumer<String, List<BackendConfig>> apply) {
        this.control = requireNonNull(control, "control");
        this.apply = requireNonNull(apply, "apply");
    }

    /** The backends of {@code pool}: its static list, or the last set discovered for it. */
    public List<BackendConfig> backends(PoolConfig pool) {
        Source s = pool.discovery() == null ? null : sources.get(pool.name());
        return s == null ? pool.backends() : s.current;
    }

    /** Counts and the sets' size for {@code /metrics}. */
    public Discovery bindMetrics(MeterRegistry registry) {
        FunctionCounter.builder("fulcrum.discovery.failures", dnsFailures, AtomicLong::get).tag("source", "dns")
                .description("backend discovery attempts that failed (the last known set stayed)").register(registry);
        FunctionCounter.builder("fulcrum.discovery.failures", fileFailures, AtomicLong::get).tag("source", "file")
                .description("backend discovery attempts that failed (the last known set stayed)").register(registry);
        Gauge.builder("fulcrum.discovery.backends", this,
                        d -> d.sources.values().stream().mapToInt(s -> s.current.size()).sum())
                .description("backends in the discovered sets in force (0 without discovery)").register(registry);
        return this;
    }

    /** Failed resolutions and file reads since start. */
    public long failures() {
        return dnsFailures.get() + fileFailures.get();
    }

    /**
     * Takes the discovery settings of every pool of {@code config}. New files are all read first,
     * and a problem with any of them is thrown with nothing changed (a reload is then refused, a
     * start fails); a new DNS name keeps its pool as it is until its first answer; pools without
     * discovery, or gone, stop theirs. Unchanged settings change nothing.
     *
     * @param inForce the backends of a pool now (by name; empty for a new pool)
     */
    public void configure(BalancerConfig config, Function<String, List<BackendConfig>> inForce)
            throws ConfigException, IOException {
        Map<String, List<BackendConfig>> read = new HashMap<>();
        for (PoolConfig p : config.pools()) {
            Source s = sources.get(p.name());
            DiscoveryConfig d = p.discovery();
            if (d != null && d.file() != null && (s == null || s.changedBy(d, config.region()))) {
                read.put(p.name(), BackendsFile.load(d.file(), config.region()));
            }
        }
        Map<String, PoolConfig> next = new HashMap<>();
        config.pools().forEach(p -> next.put(p.name(), p));
        for (Map.Entry<String, Source> e : Map.copyOf(sources).entrySet()) {
            PoolConfig p = next.get(e.getKey());
            if (p == null || p.discovery() == null) {
                e.getValue().stop();
                sources.remove(e.getKey());
            }
        }
        for (PoolConfig p : config.pools()) {
            if (p.discovery() == null) {
                continue;
            }
            Source s = sources.get(p.name());
            if (s != null && !s.changedBy(p.discovery(), config.region())) {
                continue;
            }
            if (s != null) {
                s.stop();
            }
            List<BackendConfig> initial = read.containsKey(p.name()) ? read.get(p.name()) : inForce.apply(p.name());
            Source fresh = new Source(p.name(), p.discovery(), config.region(), List.copyOf(initial));
            sources.put(p.name(), fresh);
            if (started) {
                fresh.start();
            }
        }
    }

    /** Starts resolving and watching; call once the pools are built. */
    public void start() throws IOException {
        started = true;
        for (Source s : sources.values()) {
            s.start();
        }
    }

    private void onControl(Runnable r) {
        try {
            control.execute(r);
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    private synchronized EventLoopGroup dnsGroup() {
        if (dnsGroup == null) {
            dnsGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("fulcrum-discovery", true),
                    NioIoHandler.newFactory());
        }
        return dnsGroup;
    }

    /** One pool's discovery: its settings, the last known set, and the DNS source or file watch. */
    private final class Source {
        final String pool;
        final DiscoveryConfig config;
        final String region;
        volatile List<BackendConfig> current;
        private DnsSource dns;
        private FileWatch fileWatch;
        private ScheduledFuture<?> pendingRead;
        private String lastProblem;
        private volatile boolean stopped;

        Source(String pool, DiscoveryConfig config, String region, List<BackendConfig> current) {
            this.pool = pool;
            this.config = config;
            this.region = region;
            this.current = current;
        }

        boolean changedBy(DiscoveryConfig next, String nextRegion) {
            return !Objects.equals(config, next) || !Objects.equals(region, nextRegion);
        }

        void start() throws IOException {
            if (config.dns() != null) {
                dns = new DnsSource(config.dns(), dnsGroup().next(), new DnsSource.Listener() {
                    @Override
                    public void resolved(List<BackendConfig> backends) {
                        onControl(() -> offer(backends));
                    }

                    @Override
                    public void failed(String why) {
                        dnsFailures.incrementAndGet();
                        onControl(() -> problem(why));
                    }
                });
                dns.start();
            } else {
                fileWatch = new FileWatch(config.file(), this::scheduleRead);
            }
        }

        private synchronized void scheduleRead() {
            if (pendingRead != null) {
                pendingRead.cancel(false);
            }
            try {
                pendingRead = control.schedule(this::read, FILE_DEBOUNCE.toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                pendingRead = null;
            }
        }

        private void read() {
            if (stopped) {
                return;
            }
            try {
                offer(BackendsFile.load(config.file(), region));
            } catch (ConfigException e) {
                fileFailures.incrementAndGet();
                problem(String.join("; ", e.problems()));
            }
        }

        /** Control thread: a set found by this source. */
        private void offer(List<BackendConfig> found) {
            if (stopped) {
                return;
            }
            lastProblem = null;
            if (found.equals(current)) {
                return;
            }
            List<BackendConfig> before = current;
            current = List.copyOf(found);
            log.info("discovery: pool {}: {} backends from {} (was {}): {}", pool, found.size(), describe(),
                    before.size(), found.stream().map(BackendConfig::id).toList());
            apply.accept(pool, current);
        }

        private void problem(String why) {
            if (!stopped && !why.equals(lastProblem)) {
                log.warn("discovery: pool {}: {} failed, keeping the last {} backends: {}", pool, describe(),
                        current.size(), why);
                lastProblem = why;
            }
        }

        private String describe() {
            return config.dns() != null ? "DNS " + config.dns().name() + " " + config.dns().type()
                    : "file " + config.file();
        }

        void stop() {
            stopped = true;
            if (dns != null) {
                dns.close();
                dns = null;
            }
            if (fileWatch != null) {
                try {
                    fileWatch.close();
                } catch (IOException e) {
                    log.debug("closing the discovery file watch: {}", e.toString());
                }
                fileWatch = null;
            }
        }
    }

    @Override
    public void close() {
        sources.values().forEach(Source::stop);
        synchronized (this) {
            if (dnsGroup != null) {
                dnsGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
                dnsGroup = null;
            }
        }
    }
}
