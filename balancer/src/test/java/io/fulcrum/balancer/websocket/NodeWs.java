package io.fulcrum.balancer.websocket;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The WebSocket client and server of the {@code ws} package for Node (not Fulcrum's code), in
 * {@code src/test/node/ws-proofs}: {@code server.js} as a backend process, {@code client.js} run
 * once per scenario. Its {@code node_modules} is installed from the committed lock file with
 * {@code npm ci} the first time it is missing.
 *
 * <p>Where {@code node} or {@code npm} is not on the PATH the test is skipped with a message that
 * says what to install; with {@code CI=true} or {@code FULCRUM_REQUIRE_NODE=1} it fails instead.
 *
 * <p>Thread-safe for the uses here: one test thread, and a reader thread per server process.
 */
final class NodeWs {
    /** Where the scripts and their package files are, from the balancer module's folder. */
    static final Path DIR = Path.of("src", "test", "node", "ws-proofs");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SCENARIO_SECONDS = 120;

    private NodeWs() {
    }

    /** Skips the test (fails it where Node is required) unless node and npm are here; installs ws. */
    static synchronized void require() throws IOException, InterruptedException {
        List<String> missing = new ArrayList<>();
        for (String tool : List.of("node", "npm")) {
            if (!onPath(tool)) {
                missing.add(tool);
            }
        }
        if (!missing.isEmpty()) {
            String message = "missing " + String.join(" and ", missing) + " on the PATH; install Node.js 18 or later"
                    + " (Debian: sudo apt-get install nodejs npm). CI=true or FULCRUM_REQUIRE_NODE=1 makes this a failure";
            if ("true".equals(System.getenv("CI")) || "1".equals(System.getenv("FULCRUM_REQUIRE_NODE"))) {
                fail(message);
            }
            abort("Skipping the Node ws proofs: " + message);
        }
        if (!Files.isDirectory(DIR.resolve("node_modules").resolve("ws"))) {
            // The registry is needed once; the lock file pins the exact version and its checksum.
            Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(DIR.toFile())
                    .redirectErrorStream(true).start();
            String out = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!npm.waitFor(5, TimeUnit.MINUTES) || npm.exitValue() != 0) {
                fail("npm ci in " + DIR.toAbsolutePath() + " failed:\n" + out);
            }
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs {@code client.js scenario} against {@code baseUrl} and returns the JSON it printed.
     *
     * @param caFile the CA that signed the balancer's certificate (wss), or {@code null}
     */
    static JsonNode client(String scenario, String baseUrl, Path caFile) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("node", "client.js", scenario, baseUrl));
        if (caFile != null) {
            command.add(caFile.toAbsolutePath().toString());
        }
        // Its output goes to a file, so that a client that hangs cannot hang the test.
        Path output = Files.createTempFile("ws-client-", ".json");
        try {
            Process p = new ProcessBuilder(command).directory(DIR.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).redirectOutput(output.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(SCENARIO_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail("client.js " + scenario + " still running after " + SCENARIO_SECONDS + " s");
            }
            return result(scenario, p.exitValue(), Files.readString(output).trim());
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static JsonNode result(String scenario, int exit, String out) throws IOException {
        JsonNode result = JSON.readTree(out.isEmpty() ? "{}" : out.substring(out.lastIndexOf('\n') + 1));
        if (exit != 0 || result.has("error")) {
            fail("client.js " + scenario + " failed: " + out);
        }
        return result;
    }

    /** A running {@code server.js}: its port and the events it reported, one JSON object each. */
    static final class Server implements AutoCloseable {
        private final Process process;
        private final List<JsonNode> events = new CopyOnWriteArrayList<>();
        private final int port;

        private Server(Process process) throws IOException {
            this.process = process;
            BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            String first = lines.readLine();
            if (first == null) {
                throw new IOException("server.js exited before listening");
            }
            this.port = JSON.readTree(first).get("port").asInt();
            Thread reader = new Thread(() -> {
                try {
                    String line;
                    while ((line = lines.readLine()) != null) {
                        events.add(JSON.readTree(line));
                    }
                } catch (IOException e) {
                    // The process ended.
                }
            }, "ws-server-events");
            reader.setDaemon(true);
            reader.start();
        }

        /** Starts {@code server.js}; it exits when {@link #close()} closes its stdin. */
        static Server start() throws IOException {
            return new Server(new ProcessBuilder("node", "server.js").directory(DIR.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start());
        }

        int port() {
            return port;
        }

        /** The events reported so far whose {@code event} field is {@code name}. */
        List<JsonNode> events(String name) {
            return events.stream().filter(e -> name.equals(e.path("event").asText())).toList();
        }

        /** Ends the process at once (SIGKILL): its sockets are closed by the kernel, mid-tunnel. */
        void kill() throws InterruptedException {
            process.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws IOException {
            process.getOutputStream().close();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
