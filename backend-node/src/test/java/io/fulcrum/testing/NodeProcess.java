package io.fulcrum.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A post server running in its own JVM, started with {@code NodeMain} on the test classpath, exactly
 * as an operator would run it. The port is chosen by the OS (port 0) and read from the node's
 * "listening on" log line. Closing sends SIGTERM (the node's shutdown hook runs) and waits.
 *
 * <p>Not thread safe; owned by one test.
 */
public final class NodeProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

    private final Process process;
    private final int port;
    private final StringBuffer output = new StringBuffer();

    private NodeProcess(Path config) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        process = new ProcessBuilder(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "io.fulcrum.node.NodeMain", "--config", config.toString(), "--port", "0"))
                .redirectErrorStream(true)
                .start();
        CompletableFuture<Integer> listening = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    output.append(line).append('\n');
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        listening.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (IOException e) {
                listening.completeExceptionally(e);
            }
            listening.completeExceptionally(new IllegalStateException("node exited before listening"));
        }, "node-process-output");
        reader.setDaemon(true);
        reader.start();
        try {
            port = listening.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            process.destroyForcibly();
            throw new IllegalStateException("node did not start:\n" + output, e);
        }
    }

    /** Writes a node YAML for {@code id} over {@code dbFile} into {@code dir} and starts the node. */
    public static NodeProcess startSqlite(Path dir, String id, Path dbFile) throws IOException, InterruptedException {
        Path config = dir.resolve(id + ".yaml");
        Files.writeString(config, "id: " + id + "\nregion: us-east\nlisten: { host: 127.0.0.1, port: 0 }\n"
                + "store: { kind: sqlite, path: \"" + dbFile.toAbsolutePath() + "\", pool-size: 2, queue-capacity: 256 }\n");
        return new NodeProcess(config);
    }

    /** The port the node listens on. */
    public int port() {
        return port;
    }

    /** Everything the node printed so far. */
    public String output() {
        return output.toString();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
