package io.fulcrum.testing;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL primary with one streaming replica per region, on free loopback ports in a fresh
 * folder, made by {@code scripts/run-cluster.sh pg-up}: the same script operators run, so the tests
 * exercise its initdb, {@code pg_basebackup -R} and pg_ctl steps. Replay is paused and resumed with
 * {@code pg_wal_replay_pause()}/{@code pg_wal_replay_resume()}; servers are stopped and started with
 * the script's {@code pg-stop}/{@code pg-start}.
 *
 * <p>When the PostgreSQL server binaries are missing the calling test is skipped with a clear message,
 * unless {@code FULCRUM_REQUIRE_POSTGRES=1} (CI), which makes that a failure.
 *
 * <p>Not thread safe; one per test class.
 */
public final class PostgresCluster implements AutoCloseable {
    private static final int SCRIPT_MISSING_BINARIES = 3;
    private static final long SCRIPT_TIMEOUT_SECONDS = 180;

    private final Path script;
    private final Path dir;
    private final List<String> baseArgs;
    private final int primaryPort;
    private final Map<String, Integer> replicaPorts;

    private PostgresCluster(Path script, Path dir, List<String> baseArgs, int primaryPort,
            Map<String, Integer> replicaPorts) {
        this.script = script;
        this.dir = dir;
        this.baseArgs = baseArgs;
        this.primaryPort = primaryPort;
        this.replicaPorts = replicaPorts;
    }

    /**
     * Why no cluster can be made here (the server binaries are missing), or null when one can. With
     * {@code FULCRUM_REQUIRE_POSTGRES=1} a missing binary fails the calling test instead.
     */
    public static String unavailableReason() throws IOException, InterruptedException {
        Result bin = run(findScript(), List.of("pg-bin"));
        if (bin.exitCode() != SCRIPT_MISSING_BINARIES) {
            return null;
        }
        String message = "PostgreSQL server binaries not found (" + bin.output().strip() + ")";
        if ("1".equals(System.getenv("FULCRUM_REQUIRE_POSTGRES"))) {
            fail(message + "; FULCRUM_REQUIRE_POSTGRES=1 makes this a failure");
        }
        String reason = "Skipping: " + message + "; set FULCRUM_REQUIRE_POSTGRES=1 to make this a failure";
        System.err.println(reason);
        return reason;
    }

    /** Initialises and starts a primary and one replica for each of {@code regions}, or skips. */
    public static PostgresCluster start(List<String> regions) throws IOException, InterruptedException {
        Path script = findScript();
        String unavailable = unavailableReason();
        if (unavailable != null) {
            abort(unavailable);
        }
        // The servers run as an unprivileged user when the tests run as root: the folder must be theirs to enter.
        Path dir = Files.createTempDirectory("fulcrum-cluster");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<Integer> ports = freePorts(regions.size() + 1);
        StringBuilder portList = new StringBuilder();
        for (int p : ports) {
            portList.append(portList.length() == 0 ? "" : ",").append(p);
        }
        List<String> base = List.of("--dir", dir.toString(), "--regions", String.join(",", regions),
                "--pg-ports", portList.toString());
        List<String> up = new ArrayList<>(base);
        up.add("pg-up");
        Result result = run(script, up);
        Map<String, Integer> replicas = new LinkedHashMap<>();
        for (int i = 0; i < regions.size(); i++) {
            replicas.put(regions.get(i), ports.get(i + 1));
        }
        PostgresCluster cluster = new PostgresCluster(script, dir, base, ports.get(0), replicas);
        if (result.exitCode() != 0) {
            cluster.close();
            throw new IllegalStateException("run-cluster.sh pg-up failed:\n" + result.output());
        }
        return cluster;
    }

    /** JDBC URL of the primary's {@code fulcrum} database. */
    public String primaryUrl() {
        return "jdbc:postgresql://127.0.0.1:" + primaryPort + "/fulcrum";
    }

    /** JDBC URL of {@code region}'s replica. */
    public String replicaUrl(String region) {
        return "jdbc:postgresql://127.0.0.1:" + replicaPorts.get(region) + "/fulcrum";
    }

    /** Stops replaying WAL on {@code region}'s replica: it keeps answering, with older data. */
    public void pauseReplay(String region) throws SQLException {
        exec(replicaUrl(region), "SELECT pg_wal_replay_pause()");
    }

    /** Resumes replaying WAL on {@code region}'s replica. */
    public void resumeReplay(String region) throws SQLException {
        exec(replicaUrl(region), "SELECT pg_wal_replay_resume()");
    }

    /** Stops the primary (fast shutdown). */
    public void stopPrimary() throws IOException, InterruptedException {
        script("pg-stop", "primary");
    }

    /** Starts the primary again. */
    public void startPrimary() throws IOException, InterruptedException {
        script("pg-start", "primary");
    }

    /** Opens a connection to the primary as the superuser (trust authentication on loopback). */
    public Connection primary() throws SQLException {
        return DriverManager.getConnection(primaryUrl(), "postgres", "");
    }

    /** Stops every server and deletes the folder. */
    @Override
    public void close() throws IOException {
        List<String> down = new ArrayList<>(baseArgs);
        down.add("pg-down");
        try {
            run(script, down);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void script(String command, String name) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(baseArgs);
        args.add(command);
        args.add(name);
        Result r = run(script, args);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("run-cluster.sh " + command + " " + name + " failed:\n" + r.output());
        }
    }

    private static void exec(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, "postgres", "");
                Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** What a run of the script printed, and how it exited. */
    record Result(int exitCode, String output) {
    }

    /** Runs scripts/run-cluster.sh with {@code args}, within the script time-out. */
    static Result run(Path script, List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(script.toString());
        command.addAll(args);
        Path log = Files.createTempFile("run-cluster", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(SCRIPT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException(command + " did not finish within " + SCRIPT_TIMEOUT_SECONDS + "s:\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** scripts/run-cluster.sh, found from the working folder up. */
    static Path findScript() {
        Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (d != null) {
            Path s = d.resolve("scripts/run-cluster.sh");
            if (Files.isExecutable(s)) {
                return s;
            }
            d = d.getParent();
        }
        throw new IllegalStateException("scripts/run-cluster.sh not found above " + System.getProperty("user.dir"));
    }

    /** {@code n} loopback ports free a moment ago. */
    static List<Integer> freePorts(int n) throws IOException {
        List<ServerSocket> sockets = new ArrayList<>();
        try {
            List<Integer> ports = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                sockets.add(s);
                ports.add(s.getLocalPort());
            }
            return ports;
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }
}
