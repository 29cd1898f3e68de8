package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.admin.ReloadResult;
import io.fulcrum.balancer.balancing.BackendState;
import io.fulcrum.balancer.config.BalancerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What one end-to-end test runs against, created through this extension and torn down after each
 * test whatever its outcome, last created first: {@link ScriptedBackend}s, post-server child
 * processes ({@link NodeProcess}, always killed), the balancer (bound to port 0, stopped) and a
 * working folder for config files and databases (deleted). Register it per test instance:
 * <pre>{@code @RegisterExtension final Fixtures fx = new Fixtures();}</pre>
 *
 * <p>Not thread safe: call it from the test thread.
 */
public final class Fixtures implements BeforeEachCallback, AfterEachCallback {
    /** The response header naming the backend, as {@link BalancerYaml} configures it. */
    public static final String BACKEND_HEADER = "X-Fulcrum-Backend";
    /** How long a test waits for a condition that should come about within seconds. */
    public static final Duration WAIT = Duration.ofSeconds(20);
    /** How long a reload may take before a test fails. */
    private static final Duration RELOAD_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final int workerThreads;
    private Path dir;
    private Balancer balancer;

    /** Balancers with two event loops, so that retries may cross loops. */
    public Fixtures() {
        this(2);
    }

    public Fixtures(int workerThreads) {
        this.workerThreads = workerThreads;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("fulcrum-test-");
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        Exception first = null;
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        balancer = null;
        deleteRecursively(dir);
        if (first != null) {
            throw first;
        }
    }

    /** The test's working folder (deleted after the test). */
    public Path dir() {
        return dir;
    }

    /** Closes {@code resource} after the test, before anything created earlier. */
    public <T extends AutoCloseable> T closeAfter(T resource) {
        resources.push(requireNonNull(resource, "resource"));
        return resource;
    }

    /** Starts a scripted backend on a free port. */
    public ScriptedBackend backend(String name) throws InterruptedException {
        return closeAfter(ScriptedBackend.start(name));
    }

    /** Starts {@code n} scripted backends named b1, b2, ... */
    public ScriptedBackend[] backends(int n) throws InterruptedException {
        return backends(IntStream.rangeClosed(1, n).mapToObj(i -> "b" + i).toArray(String[]::new));
    }

    /** Starts scripted backends under these names, in this order. */
    public ScriptedBackend[] backends(String... names) throws InterruptedException {
        ScriptedBackend[] backends = new ScriptedBackend[names.length];
        for (int i = 0; i < names.length; i++) {
            backends[i] = backend(names[i]);
        }
        return backends;
    }

    /** Starts a post server child process on the SQLite file {@code db}. */
    public NodeProcess node(String id, String region, Path db) throws IOException {
        return closeAfter(NodeProcess.start(id, region, db, dir));
    }

    /** The SQLite file in the working folder that the post servers of {@link #nodes} share. */
    public Path postsDb() {
        return dir.resolve("posts.db");
    }

    /** Starts {@code n} post servers named n1, n2, ... in region {@code local}, sharing {@link #postsDb()}. */
    public NodeProcess[] nodes(int n) throws IOException {
        NodeProcess[] nodes = new NodeProcess[n];
        for (int i = 0; i < n; i++) {
            nodes[i] = node("n" + (i + 1), "local", postsDb());
        }
        return nodes;
    }

    /**
     * Writes {@code yaml} to {@code balancer.yaml} in the working folder and starts a balancer from
     * it, with that file as its reloadable config.
     */
    public Balancer balancer(BalancerYaml yaml) throws IOException, InterruptedException {
        Path file = writeConfig(yaml);
        BalancerConfig config = yaml.config();
        Balancer b = new Balancer(config, workerThreads, file);
        closeAfter(b);
        balancer = b.start();
        return balancer;
    }

    /** {@link #balancer(BalancerYaml)}, then waits until it reports ready (first health round passed). */
    public Balancer readyBalancer(BalancerYaml yaml) throws IOException, InterruptedException {
        Balancer b = balancer(yaml);
        await("balancer ready").atMost(READY_TIMEOUT).until(b::ready);
        return b;
    }

    /**
     * Starts {@code n} scripted backends b1, b2, ... and a balancer in front of them from
     * {@code yaml}, which gets them as its backends.
     */
    public Fleet fleet(int n, BalancerYaml yaml) throws IOException, InterruptedException {
        ScriptedBackend[] backends = backends(n);
        return new Fleet(balancer(yaml.backends(backends)), List.of(backends));
    }

    /** {@link #fleet}, then waits until the balancer reports ready (first health round passed). */
    public Fleet readyFleet(int n, BalancerYaml yaml) throws IOException, InterruptedException {
        ScriptedBackend[] backends = backends(n);
        return new Fleet(readyBalancer(yaml.backends(backends)), List.of(backends));
    }

    /** Starts a balancer without a config file (reload unavailable). */
    public Balancer balancer(BalancerConfig config) throws InterruptedException {
        Balancer b = new Balancer(config, workerThreads);
        closeAfter(b);
        balancer = b.start();
        return balancer;
    }

    /**
     * Writes the next config and reloads the running balancer from it, waiting for the result.
     *
     * @throws AssertionError when the reload was rejected
     */
    public ReloadResult reload(BalancerYaml yaml) throws Exception {
        requireNonNull(balancer, "balancer (start one first)");
        writeConfig(yaml);
        ReloadResult r = balancer.reloader().reload("test").get(RELOAD_TIMEOUT.toMillis(),
                TimeUnit.MILLISECONDS);
        if (!r.applied()) {
            throw new AssertionError("reload rejected: " + r.problems() + "\n" + yaml.yaml());
        }
        return r;
    }

    /** The live state of backend {@code id} in the balancer started last (health, in flight, ejection). */
    public BackendState state(String id) {
        requireNonNull(balancer, "balancer (start one first)");
        return balancer.registry().current().byId(id).state();
    }

    /**
     * Asserts that no request of a load through {@code balancer} failed, telling on failure how
     * many retries the balancer made and how many its retry budget refused.
     */
    public static void assertNoFailures(HttpLoad.Result result, Balancer balancer) {
        assertTrue(result.failures().isEmpty(), result.summary() + "; retries "
                + balancer.proxy().retryBudget().totalRetries() + ", refused by the retry budget "
                + balancer.proxy().retryBudget().refusedRetries());
    }

    /**
     * Sends {@code requests} GETs of {@code path} through {@code balancer} on {@code connections}
     * connections, waits for them all and asserts that each was answered 200 (telling on failure
     * what {@link #assertNoFailures} tells): for a test that then checks where they went.
     */
    public static HttpLoad.Result getsWithoutFailures(Balancer balancer, String path, int connections, int requests)
            throws InterruptedException {
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(connections)
                .script(seq -> HttpLoad.Request.get(path)).requests(requests).run();
        assertNoFailures(result, balancer);
        assertEquals(Map.of(200, requests), result.statuses(), result::summary);
        return result;
    }

    /** The file for the balancer's access log ({@code access-log}) in the working folder. */
    public Path accessLog() {
        return dir.resolve("access.log");
    }

    /**
     * The lines of the access log ({@link #accessLog()}) as JSON, read again until {@code check}
     * passes on them or {@link #WAIT} has passed: the balancer writes a request's line after it has
     * answered the request, so a test that got its answer may have to wait for the line.
     */
    public List<JsonNode> accessLogLines(Consumer<List<JsonNode>> check) {
        Path file = accessLog();
        List<JsonNode> lines = new ArrayList<>();
        await("access log lines").atMost(WAIT).untilAsserted(() -> {
            lines.clear();
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file)) {
                    lines.add(JSON.readTree(line));
                }
            }
            check.accept(lines);
        });
        return lines;
    }

    /** The body of {@code GET path} on the balancer's admin port, which must answer 200. */
    public String adminGet(Balancer b, String path) throws IOException {
        try (RawHttpClient client = RawHttpClient.connect(b.adminPort(), (int) WAIT.toMillis())) {
            RawHttpClient.Response r = client.get(path);
            if (r.status() != 200) {
                throw new AssertionError("GET " + path + " on the admin port: " + r.statusLine() + " " + r.bodyText());
            }
            return r.bodyText();
        }
    }

    /** Replaces the config file in one step, so that the file watcher never reads half of it. */
    private Path writeConfig(BalancerYaml yaml) throws IOException {
        Path file = dir.resolve("balancer.yaml");
        Path tmp = dir.resolve("balancer.yaml.tmp");
        Files.writeString(tmp, yaml.yaml());
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return file;
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
