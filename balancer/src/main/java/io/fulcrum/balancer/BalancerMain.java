package io.fulcrum.balancer;

import io.fulcrum.balancer.config.BackendsFile;
import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import io.fulcrum.balancer.config.PoolConfig;
import io.fulcrum.balancer.tls.TlsCertificateCheck;
import io.fulcrum.config.Durations;
import io.netty.util.ResourceLeakDetector;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code balancer} command: loads and validates the YAML config, starts the balancer and
 * stops it gracefully on SIGTERM or Ctrl-C. Exit status 2 means the config is unusable (nothing
 * was bound), 1 that start-up failed otherwise.
 */
@Command(name = "balancer", mixinStandardHelpOptions = true, versionProvider = BalancerMain.Version.class,
        description = "Fulcrum: a layer-7 HTTP load balancer.")
public final class BalancerMain implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(BalancerMain.class);
    private static final String RECYCLER_BATCH_PROPERTY = "io.netty.recycler.chunkSize";
    private static final String RECYCLER_RATIO_PROPERTY = "io.netty.recycler.ratio";
    /** The longest a replacing process waits for its first health round before it takes over. */
    private static final Duration READY_WAIT = Duration.ofSeconds(30);

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the YAML config file")
    Path config;

    @Option(names = "--check", description = "validate the config, print the problems, and exit")
    boolean check;

    @Option(names = "--threads", paramLabel = "N", description = "event loop threads (default: one per core)")
    int threads;

    @Option(names = "--pid-file", paramLabel = "FILE",
            description = "write the process id here once serving (removed at exit while it is still ours)")
    Path pidFile;

    @Option(names = "--replace", description = "take over from the balancer that --pid-file names: bind the same"
            + " ports beside it (SO_REUSEPORT) and, once serving, send it SIGTERM so it drains and exits")
    boolean replace;

    /** Gives access to the writers passed to {@link #run}, so problems go where the caller asked. */
    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        if (System.getProperty(RECYCLER_BATCH_PROPERTY) == null) {
            // Netty recycles each pooled buffer and buffer-cache entry through a per-thread batch of
            // 32; a loop with more buffers in flight than that (64 connections at once) overflows it,
            // and every overflowing release goes to a shared queue after asking the JVM for the owner
            // thread's state: about 5 % of the proxy's Java CPU at 64 connections. A batch of 512
            // keeps those releases local.
            System.setProperty(RECYCLER_BATCH_PROPERTY, "512");
        }
        if (System.getProperty(RECYCLER_RATIO_PROPERTY) == null) {
            // Netty keeps for reuse only one in 8 of the objects it makes while a thread's pool is
            // empty (against bursts of objects that never come back). Every buffer the proxy takes
            // comes back to its loop, yet with 8 buffer objects were still made anew at 64
            // keep-alive connections long after warm-up: 1.6 % of the proxy's CPU in a profile,
            // none with every object kept.
            System.setProperty(RECYCLER_RATIO_PROPERTY, "1");
        }
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Sampling leak detection costs a stack trace per sampled buffer on the request path;
            // tests run at paranoid level, production opts in with -Dio.netty.leakDetection.level.
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command and returns its exit status (for tests, without exiting). */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new BalancerMain());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            err.println("balancer: " + e.getMessage());
            return 1;
        });
        return cli.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        BalancerConfig loaded;
        try {
            loaded = ConfigLoader.load(config, TlsCertificateCheck.INSTANCE);
        } catch (ConfigException e) {
            PrintWriter err = spec.commandLine().getErr();
            // Each line names the file, as a compiler's do: "balancer.yaml: backends[2].url: ... (line 14)".
            String prefix = config + ": ";
            e.problems().forEach(p -> err.println(p.startsWith(prefix) ? p : prefix + p));
            err.flush();
            return 2;
        }
        if (check) {
            PrintWriter out = spec.commandLine().getOut();
            int backends = 0;
            for (PoolConfig p : loaded.pools()) {
                if (p.discovery() != null && p.discovery().file() != null) {
                    try {
                        backends += BackendsFile.load(p.discovery().file(), loaded.region()).size();
                    } catch (ConfigException e) {
                        PrintWriter err = spec.commandLine().getErr();
                        e.problems().forEach(err::println);
                        err.flush();
                        return 2;
                    }
                } else {
                    backends += p.backends().size();
                }
            }
            boolean dns = loaded.pools().stream().anyMatch(p -> p.discovery() != null && p.discovery().dns() != null);
            out.println(config + ": OK (" + backends + " backends" + (dns ? ", more from DNS" : "") + ")");
            out.flush();
            return 0;
        }
        if (replace && pidFile == null) {
            spec.commandLine().getErr().println("balancer: --replace needs --pid-file (the process to take over from)");
            return 2;
        }
        // Read before this process writes the file: the one it takes over from.
        Optional<ProcessHandle> previous = replace ? PidFile.running(pidFile) : Optional.empty();
        Balancer balancer = new Balancer(loaded, threads, config).start();
        balancer.reloader().installSignalHandler();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("stopping: draining for up to {}", Durations.format(loaded.timeouts().drain()));
            try {
                balancer.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (pidFile != null) {
                PidFile.removeIfOwn(pidFile);
            }
            stopped.countDown();
        }, "fulcrum-shutdown"));
        log.info("Fulcrum balancer on port {} with {} backends; admin API on port {}", balancer.port(),
                balancer.backendCount(), balancer.adminPort());
        if (pidFile != null) {
            takeOver(balancer, previous);
        }
        stopped.await();
        return 0;
    }

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = BalancerMain.class.getPackage().getImplementationVersion();
            return new String[] {"fulcrum balancer " + (v == null ? "dev" : v)};
        }
    }

    /**
     * Once this process serves (its first round of health checks answered, or {@link #READY_WAIT}
     * passed), names it in the pid file and has the process it replaces, if any, stop: that one
     * closes its listeners and drains, and the kernel gives every new connection to this one.
     */
    private void takeOver(Balancer balancer, Optional<ProcessHandle> previous) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + READY_WAIT.toNanos();
        while (!balancer.ready() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        PidFile.write(pidFile);
        previous.ifPresent(p -> {
            log.info("taking over from process {}: it stops accepting and drains", p.pid());
            p.destroy();
        });
    }
}
