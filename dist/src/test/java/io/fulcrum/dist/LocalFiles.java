package io.fulcrum.dist;

import static org.awaitility.Awaitility.await;

import io.fulcrum.testing.TestHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What the release tests share: free loopback ports, the repository's example configs rewritten to
 * those ports and to a temporary folder, bounded HTTP clients, and processes stopped for sure.
 *
 * <p>Not thread safe! One instance per test.
 */
final class LocalFiles implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(90);

    private final Map<Integer, TestHttp> clients = new ConcurrentHashMap<>();
    private final List<Process> processes = new ArrayList<>();

    /** The repository root (the parent of the dist module). */
    static Path root() {
        return Path.of(System.getProperty("fulcrum.root", "..")).toAbsolutePath().normalize();
    }

    /** The java binary running this test, for launchers that look at {@code JAVA}. */
    static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    /** A port that was free a moment ago on 127.0.0.1. */
    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The ports of one local cluster: the balancer's and each node's API and admin port. */
    record Ports(int balancer, int admin, int us1, int us2, int eu1, int us1Admin, int us2Admin, int eu1Admin) {
        static Ports free() {
            return new Ports(freePort(), freePort(), freePort(), freePort(), freePort(), freePort(), freePort(),
                    freePort());
        }
    }

    /**
     * The repository's example configs moved to free ports, written into {@code dir}/config with the
     * SQLite file {@code dir}/posts.db.
     *
     * @return the ports
     */
    static Ports exampleConfigs(Path dir) throws IOException {
        Ports ports = Ports.free();
        writeConfigs(root().resolve("config"), dir.resolve("config"), ports, dir.resolve("posts.db"));
        return ports;
    }

    /**
     * Copies {@code from}'s balancer.yaml and node-*.yaml into {@code to}, moved to {@code ports}, the
     * SQLite file to {@code store}, and health checks and drain short enough for a test.
     */
    static void writeConfigs(Path from, Path to, Ports ports, Path store) throws IOException {
        Files.createDirectories(to);
        String balancer = Files.readString(from.resolve("balancer.yaml"))
                .replace("port: 8080", "port: " + ports.balancer())
                .replace("port: 8081", "port: " + ports.admin())
                .replace("127.0.0.1:9001\"", "127.0.0.1:" + ports.us1() + "\"")
                .replace("127.0.0.1:9002\"", "127.0.0.1:" + ports.us2() + "\"")
                .replace("127.0.0.1:9003\"", "127.0.0.1:" + ports.eu1() + "\"")
                .replace("interval: 2s", "interval: 300ms")
                .replace("timeout: 1s", "timeout: 500ms");
        Files.writeString(to.resolve("balancer.yaml"), balancer + "timeouts: { drain: 10s }\n");
        node(from, to, "us-1", 9001, ports.us1(), 9101, ports.us1Admin(), store);
        node(from, to, "us-2", 9002, ports.us2(), 9102, ports.us2Admin(), store);
        node(from, to, "eu-1", 9003, ports.eu1(), 9103, ports.eu1Admin(), store);
    }

    private static void node(Path from, Path to, String id, int port, int newPort, int admin, int newAdmin,
            Path store) throws IOException {
        String yaml = Files.readString(from.resolve("node-" + id + ".yaml"))
                .replace("port: " + port + " }", "port: " + newPort + " }")
                .replace("port: " + admin + " }", "port: " + newAdmin + " }")
                .replace("path: data/posts.db", "path: " + store);
        Files.writeString(to.resolve("node-" + id + ".yaml"), yaml);
    }

    /** Starts {@code command} in {@code dir} with {@code env} added, output appended to {@code log}. */
    Process start(Path dir, Path log, java.util.Map<String, String> env, String... command) throws IOException {
        ProcessBuilder b = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        b.environment().putAll(env);
        Process p = b.start();
        processes.add(p);
        return p;
    }

    /** Runs {@code command} to its end (bounded) and returns its exit status and output. */
    static Result run(Path dir, java.util.Map<String, String> env, String... command)
            throws IOException, InterruptedException {
        ProcessBuilder b = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        b.environment().putAll(env);
        Process p = b.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("did not finish: " + String.join(" ", command));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** A finished command. */
    record Result(int status, String output) {
    }

    /** The test kit's bounded client of {@code http://127.0.0.1:port}, one per port. */
    TestHttp http(int port) {
        return clients.computeIfAbsent(port, TestHttp::new);
    }

    HttpResponse<String> get(int port, String path) {
        return http(port).get(path);
    }

    HttpResponse<String> postJson(int port, String path, String json) {
        return http(port).postJson(path, json);
    }

    /** Waits until {@code port} answers {@code path} with 200. */
    void awaitOk(int port, String path) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                .until(() -> get(port, path).statusCode() == 200);
    }

    /**
     * Stops every process started here: SIGTERM, then SIGKILL after a bounded wait (at once when the
     * test thread is interrupted, whose interrupt is kept).
     */
    @Override
    public void close() {
        for (Process p : processes) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        boolean interrupted = false;
        for (Process p : processes) {
            try {
                if (interrupted || !p.waitFor(60, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                interrupted = true;
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
