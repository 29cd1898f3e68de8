package io.fulcrum.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A real pg_auto_failover formation: a monitor and two data nodes, pg1 (the first primary) and pg2
 * (its synchronous secondary), on free loopback ports in a fresh folder, made by
 * {@code scripts/run-cluster.sh --ha ha-up}, the same script operators run. {@link #kill} takes a
 * data node down as a lost machine would (its keeper and PostgreSQL, SIGKILL), and the monitor
 * promotes the other.
 *
 * <p>When the PostgreSQL server binaries or {@code pg_autoctl} are missing the calling test is
 * skipped with a clear message, unless {@code FULCRUM_REQUIRE_POSTGRES=1} (CI), which makes that a
 * failure.
 *
 * <p>Not thread safe; one per test class.
 */
public final class AutoFailoverCluster implements AutoCloseable {
    private final Path script;
    private final Path dir;
    private final List<String> baseArgs;
    private final List<Integer> ports;

    private AutoFailoverCluster(Path script, Path dir, List<String> baseArgs, List<Integer> ports) {
        this.script = script;
        this.dir = dir;
        this.baseArgs = baseArgs;
        this.ports = ports;
    }

    /**
     * Why no formation can be made here (the server binaries or pg_autoctl are missing), or null when
     * one can. With {@code FULCRUM_REQUIRE_POSTGRES=1} a missing one fails the calling test instead.
     */
    public static String unavailableReason() throws IOException, InterruptedException {
        String binaries = PostgresCluster.unavailableReason();
        if (binaries != null) {
            return binaries;
        }
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, "pg_autoctl"))) {
                return null;
            }
        }
        String message = "pg_autoctl not found (Debian: apt-get install postgresql-15-auto-failover)";
        if ("1".equals(System.getenv("FULCRUM_REQUIRE_POSTGRES"))) {
            fail(message + "; FULCRUM_REQUIRE_POSTGRES=1 makes this a failure");
        }
        String reason = "Skipping: " + message + "; set FULCRUM_REQUIRE_POSTGRES=1 to make this a failure";
        System.err.println(reason);
        return reason;
    }

    /** Creates and starts the monitor, pg1 and pg2, and waits until they are primary and secondary. */
    public static AutoFailoverCluster start() throws IOException, InterruptedException {
        Path script = PostgresCluster.findScript();
        // The servers run as an unprivileged user when the tests run as root: the folder must be theirs to enter.
        Path dir = Files.createTempDirectory("fulcrum-ha");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<Integer> ports = PostgresCluster.freePorts(3);
        List<String> base = List.of("--ha", "--dir", dir.toString(), "--pg-ports",
                ports.get(0) + "," + ports.get(1) + "," + ports.get(2));
        AutoFailoverCluster cluster = new AutoFailoverCluster(script, dir, base, ports);
        PostgresCluster.Result up = cluster.script("ha-up");
        if (up.exitCode() != 0) {
            cluster.close();
            throw new IllegalStateException("run-cluster.sh --ha ha-up failed:\n" + up.output());
        }
        return cluster;
    }

    /**
     * The JDBC URL naming both data nodes, as the post servers use it: pgjdbc connects to the one
     * that is {@code targetServerType} now ({@code primary}, or {@code preferSecondary} for reads).
     */
    public String url(String targetServerType) {
        return "jdbc:postgresql://127.0.0.1:" + ports.get(1) + ",127.0.0.1:" + ports.get(2)
                + "/fulcrum?targetServerType=" + targetServerType + "&hostRecheckSeconds=1&connectTimeout=2";
    }

    /** Opens a connection to whichever data node is the primary now. */
    public Connection primary() throws SQLException {
        return DriverManager.getConnection(url("primary"), "postgres", "");
    }

    /** Kills data node {@code name} ({@code pg1}, {@code pg2}) with its keeper, as a lost machine. */
    public void kill(String name) throws IOException, InterruptedException {
        PostgresCluster.Result r = script("ha-kill", name);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("run-cluster.sh --ha ha-kill " + name + " failed:\n" + r.output());
        }
    }

    private PostgresCluster.Result script(String... command) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(baseArgs);
        args.addAll(List.of(command));
        return PostgresCluster.run(script, args);
    }

    /** Stops the formation and deletes the folder. */
    @Override
    public void close() throws IOException {
        try {
            script("ha-down");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
