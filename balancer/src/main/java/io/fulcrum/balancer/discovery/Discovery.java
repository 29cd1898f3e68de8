package io.fulcrum.balancer.discovery;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.BackendsFile;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.DiscoveryConfig;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The default pool's backends when {@code discovery} replaces the static {@code backends} list:
 * keeps the last known set from DNS ({@link DnsSource}) or a watched file, and hands every change
 * to the balancer on the control thread, where it is applied as a reload of the pool is (new
 * backends slow-start, removed ones get no new requests and finish those they hold, backends that
 * stay keep their live state). A failed resolution or an unreadable or invalid file keeps the last
 * known set; it is logged (once per distinct problem) and counted in
 * {@code fulcrum.discovery.failures}.
 *
 * <p>DNS queries run on a one-thread event loop of their own ({@code fulcrum-discovery}), never on
 * a traffic loop; file reads run on the control thread. Thread-safe: {@link #configure},
 * {@link #start} and the listener run on the control thread (or the main thread before start).
 */
public final class Discovery implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Discovery.class);
    /** Editors write a file in several steps; changes this close together give one read. */
    private static final Duration FILE_DEBOUNCE = Duration.ofMillis(100);

    private final ScheduledExecutorService control;
    private final Consumer<List<BackendConfig>> apply;
    private final AtomicLong dnsFailures = new AtomicLong();
    private final AtomicLong fileFailures = new AtomicLong();
    private volatile List<BackendConfig> current = List.of();
    private volatile DiscoveryConfig active;
    private String activeRegion;
    private boolean started;
    private EventLoopGroup dnsGroup;
    private DnsSource dns;
    private FileWatch fileWatch;
    private ScheduledFuture<?> pendingRead;
    private String lastProblem;

    /**
     * @param apply applies a changed set to the pool; called on the control thread
     */
    public Discovery(ScheduledExecutorService control, Consumer<List<BackendConfig>> apply) {
        this.control = requireNonNull(control, "control");
        this.apply = requireNonNull(apply, "apply");
    }

    /** The pool's backends under {@code config}: its static list, or the last discovered set. */
    public List<BackendConfig> backends(BalancerConfig config) {
        return config.discovery() == null ? config.backends() : current;
    }

    /** Counts and the set's size for {@code /metrics}. */
    public Discovery bindMetrics(MeterRegistry registry) {
        FunctionCounter.builder("fulcrum.discovery.failures", dnsFailures, AtomicLong::get).tag("source", "dns")
                .description("backend discovery attempts that failed (the last known set stayed)").register(registry);
        FunctionCounter.builder("fulcrum.discovery.failures", fileFailures, AtomicLong::get).tag("source", "file")
                .description("backend discovery attempts that failed (the last known set stayed)").register(registry);
        Gauge.builder("fulcrum.discovery.backends", this, d -> d.active == null ? 0 : d.current.size())
                .description("backends in the discovered set in force (0 without discovery)").register(registry);
        return this;
    }

    /** Failed resolutions and file reads since start, for tests and the admin API. */
    public long failures() {
        return dnsFailures.get() + fileFailures.get();
    }

    /**
     * Takes the discovery settings of {@code config}. A new file is read now, and a problem with it
     * is thrown (a reload is then refused, a start fails); a new DNS name keeps the pool as it is
     * until its first answer. Unchanged settings change nothing.
     *
     * @param inForce the backends of the pool now, kept until a new DNS source answers
     */
    public void configure(BalancerConfig config, List<BackendConfig> inForce) throws ConfigException, IOException {
        DiscoveryConfig next = config.discovery();
        if (Objects.equals(next, active) && Objects.equals(config.region(), activeRegion)) {
            return;
        }
        List<BackendConfig> fromFile = next != null && next.file() != null
                ? BackendsFile.load(next.file(), config.region()) : null;
        stopSources();
        active = next;
        activeRegion = config.region();
        lastProblem = null;
        if (next == null) {
            return;
        }
        current = fromFile != null ? fromFile : List.copyOf(inForce);
        if (started) {
            startSources();
        }
    }

    /** Starts resolving and watching; call once the pool is built. */
    public void start() throws IOException {
        started = true;
        if (active != null) {
            startSources();
        }
    }

    private void startSources() throws IOException {
        DiscoveryConfig config = active;
        if (config.dns() != null) {
            if (dnsGroup == null) {
                dnsGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("fulcrum-discovery", true),
                        NioIoHandler.newFactory());
            }
            dns = new DnsSource(config.dns(), dnsGroup.next(), new DnsSource.Listener() {
                @Override
                public void resolved(List<BackendConfig> backends) {
                    onControl(() -> offer(config, backends));
                }

                @Override
                public void failed(String why) {
                    dnsFailures.incrementAndGet();
                    onControl(() -> problem(config, why));
                }
            });
            dns.start();
        } else {
            fileWatch = new FileWatch(config.file(), () -> scheduleRead(config));
        }
    }

    private void scheduleRead(DiscoveryConfig config) {
        synchronized (this) {
            if (pendingRead != null) {
                pendingRead.cancel(false);
            }
            try {
                pendingRead = control.schedule(() -> read(config), FILE_DEBOUNCE.toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                pendingRead = null;
            }
        }
    }

    private void read(DiscoveryConfig config) {
        if (config != active) {
            return;
        }
        try {
            offer(config, BackendsFile.load(config.file(), activeRegion));
        } catch (ConfigException e) {
            fileFailures.incrementAndGet();
            problem(config, String.join("; ", e.problems()));
        }
    }

    private void onControl(Runnable r) {
        try {
            control.execute(r);
        } catch (RejectedExecutionException e) {
            // stopping
        }
    }

    /** Control thread: a set found by the source of {@code config}. */
    private void offer(DiscoveryConfig config, List<BackendConfig> found) {
        if (config != active) {
            return;
        }
        lastProblem = null;
        if (found.equals(current)) {
            return;
        }
        List<BackendConfig> before = current;
        current = List.copyOf(found);
        log.info("discovery: {} backends from {} (was {}): {}", found.size(), describe(config), before.size(),
                found.stream().map(BackendConfig::id).toList());
        apply.accept(current);
    }

    private void problem(DiscoveryConfig config, String why) {
        if (config == active && !why.equals(lastProblem)) {
            log.warn("discovery from {} failed, keeping the last {} backends: {}", describe(config), current.size(), why);
            lastProblem = why;
        }
    }

    private static String describe(DiscoveryConfig config) {
        return config.dns() != null ? "DNS " + config.dns().name() + " " + config.dns().type() : "file " + config.file();
    }

    private void stopSources() {
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

    @Override
    public void close() {
        stopSources();
        if (dnsGroup != null) {
            dnsGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
            dnsGroup = null;
        }
    }
}
