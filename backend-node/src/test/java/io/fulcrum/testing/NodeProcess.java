package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real post server ({@code io.fulcrum.node.NodeMain}) in a child JVM on a free port, on an
 * SQLite file that several nodes may share, so that a test can kill it for real: {@link #kill()}
 * is SIGKILL on Linux ({@link Process#destroyForcibly()}), {@link #pause()} and {@link #resume()}
 * are SIGSTOP and SIGCONT (the kernel still accepts connections into the backlog; nobody answers).
 * The child runs on this JVM's class path, so it is the node built in this reactor; its output goes
 * to a log file beside its config. {@link #stop()} is the operator's stop (SIGTERM) and gives the
 * exit status.
 *
 * <p>One class for both modules' tests: it lives in the post server's test tree and reaches the
 * balancer's tests through the post server's test jar.
 *
 * <p>Thread-safe for the test thread and the cleanup thread; {@link #close()} always kills.
 */
public final class NodeProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(40);
    /** Longer than the node's own drain (10 s) and its store's close. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final String id;
    private final Process process;
    private final Path log;
    private final int port;

    private NodeProcess(String id, Process process, Path log) {
        this.id = id;
        this.process = process;
        this.log = log;
        try {
            this.port = awaitPort();
        } catch (RuntimeException | Error e) {
            process.destroyForcibly();
            throw e;
        }
    }

    /**
     * Starts node {@code id} in {@code region} on the SQLite file {@code db}, writing its config
     * and log into {@code dir}, and waits until it listens.
     */
    public static NodeProcess start(String id, String region, Path db, Path dir) throws IOException {
        requireNonNull(id, "id");
        Path config = dir.resolve("node-" + id + ".yaml");
        Files.writeString(config, String.join("\n",
                "id: " + id,
                "region: " + requireNonNull(region, "region"),
                "listen: { host: 127.0.0.1, port: 0 }",
                "store:",
                "  kind: sqlite",
                "  path: \"" + db.toAbsolutePath() + "\"",
                "  busy-timeout: 10s",
                "  pool-size: 2",
                "  queue-capacity: 256",
                "  connection-timeout: 5s",
                ""));
        Path log = dir.resolve("node-" + id + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java,
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"),
                "io.fulcrum.node.NodeMain", "--config", config.toString(), "--port", "0"))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().remove("FULCRUM_DB_URL");
        return new NodeProcess(id, pb.start(), log);
    }

    private int awaitPort() {
        int[] found = new int[1];
        await("node " + id + " listening (log: " + log + ")").atMost(START_TIMEOUT)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    if (!process.isAlive()) {
                        throw new IllegalStateException("node " + id + " exited with " + process.exitValue()
                                + ":\n" + logText());
                    }
                    Matcher m = LISTENING.matcher(logText());
                    if (m.find()) {
                        found[0] = Integer.parseInt(m.group(1));
                        return true;
                    }
                    return false;
                });
        return found[0];
    }

    /** What the node has logged so far. */
    public String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String id() {
        return id;
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** SIGKILL: no shutdown hook runs, the kernel closes the listener and resets the connections. */
    public void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("node " + id + " still alive 10s after SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGSTOP: the process stops running; connections stay open and nothing answers. */
    public void pause() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** SIGCONT after {@link #pause()}. */
    public void resume() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + name + " " + process.pid() + " failed");
        }
    }

    /**
     * SIGTERM, as systemd and {@code run-local.sh} stop a node: it drains and exits by itself.
     *
     * @return its exit status
     */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("node " + id + " still alive " + STOP_TIMEOUT + " after SIGTERM:\n"
                    + logText());
        }
        return process.exitValue();
    }

    /** Kills the node (also a paused one). */
    @Override
    public void close() {
        kill();
    }

    @Override
    public String toString() {
        return "node " + id + " (pid " + process.pid() + ", :" + port + ")";
    }
}
