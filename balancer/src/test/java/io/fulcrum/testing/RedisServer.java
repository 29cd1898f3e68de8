package io.fulcrum.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A real {@code redis-server} of the test's own, on a free loopback port, keeping nothing on disk
 * ({@code --save '' --appendonly no}). It can be killed ({@link #kill()}) and started again on the
 * same port ({@link #restart()}), empty, as a Redis that crashed comes back.
 *
 * <p>When {@code redis-server} is not installed the calling test is skipped with a clear message,
 * unless {@code FULCRUM_REQUIRE_REDIS=1} (CI), which makes that a failure.
 *
 * <p>Not thread safe; one per test.
 */
public final class RedisServer implements AutoCloseable {
    private static final Duration START = Duration.ofSeconds(20);

    private final Path binary;
    private final int port;
    private Process process;

    private RedisServer(Path binary, int port) {
        this.binary = binary;
        this.port = port;
    }

    /** Starts one on a free port, or skips (fails with {@code FULCRUM_REQUIRE_REDIS=1}) without redis-server. */
    public static RedisServer start() throws IOException {
        Path binary = find();
        if (binary == null) {
            String message = "redis-server not found on PATH or in /usr/bin, /usr/local/bin";
            if ("1".equals(System.getenv("FULCRUM_REQUIRE_REDIS"))) {
                fail(message + "; FULCRUM_REQUIRE_REDIS=1 makes this a failure");
            }
            String reason = "Skipping: " + message + "; install it (apt-get install redis-server), or set"
                    + " FULCRUM_REQUIRE_REDIS=1 to make this a failure";
            System.err.println(reason);
            abort(reason);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        RedisServer server = new RedisServer(binary, port);
        server.restart();
        return server;
    }

    private static Path find() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : (path + ":/usr/bin:/usr/local/bin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "redis-server"))) {
                return Path.of(dir, "redis-server");
            }
        }
        return null;
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:PORT}. */
    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    /** Starts the server (again) on its port, empty, and waits until it answers PING. */
    public void restart() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("redis-server is running already");
        }
        process = new ProcessBuilder(List.of(binary.toString(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Awaitility.await("redis-server answers PING on " + port).atMost(START).pollInterval(Duration.ofMillis(50))
                .ignoreExceptions().until(() -> "+PONG".equals(command("PING")));
    }

    /** Kills the server at once (SIGKILL), as a crash would, and waits until it is gone. */
    public void kill() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Sends one inline command and returns the first line of the answer. */
    public String command(String line) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            s.setSoTimeout(2_000);
            OutputStream out = s.getOutputStream();
            out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            StringBuilder answer = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\r') {
                answer.append((char) c);
            }
            return answer.toString();
        }
    }

    @Override
    public void close() {
        kill();
    }
}
