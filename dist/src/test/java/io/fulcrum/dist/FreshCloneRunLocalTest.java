package io.fulcrum.dist;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, {@code scripts/run-local.sh}, as a newcomer runs it: on a fresh copy of
 * the repository (its tracked files, no {@code target/}, no {@code data/}) and with a local Maven
 * repository that holds every third-party artifact but no {@code io.fulcrum} one, so nothing that an
 * earlier {@code mvn install} left behind can stand in for a module the script forgot to build. The
 * script builds, starts the cluster, serves a post through the balancer, and stops everything on
 * Ctrl-C (SIGINT).
 *
 * <p>The copy's example configs are moved to free ports first. Maven runs with a home folder of its
 * own ({@code MAVEN_OPTS=-Duser.home=...}), whose {@code settings.xml} says offline and whose local
 * repository is made of links into the one this build uses.
 * The script is started with SIGINT at its default disposition ({@code env --default-signal=INT}):
 * a process started from a non-interactive shell's background job inherits SIGINT ignored, and bash
 * cannot trap a signal that was ignored when it started.
 */
@Timeout(value = 420, unit = TimeUnit.SECONDS)
class FreshCloneRunLocalTest {
    /** Building from nothing takes a while on a busy machine; starting the cluster then as usual. */
    private static final Duration BUILD_AND_START = Duration.ofSeconds(330);

    @TempDir
    Path dir;

    @Test
    void theReadmesFirstCommandBuildsStartsServesAndStopsOnCtrlC() throws Exception {
        Path clone = dir.resolve("fulcrum");
        copyTrackedFiles(LocalFiles.root(), clone);
        assertFalse(Files.exists(clone.resolve("balancer/target")), "a fresh copy has no build output");
        Path home = mavenHomeWithoutFulcrum(dir.resolve("home"));

        LocalFiles.Ports ports = LocalFiles.Ports.free();
        Path data = clone.resolve("data");
        LocalFiles.writeConfigs(clone.resolve("config"), clone.resolve("config"), ports, data.resolve("posts.db"));

        Map<String, String> env = new HashMap<>();
        // Maven's own JVM reads its settings and local repository under user.home.
        env.put("MAVEN_OPTS", (System.getenv().getOrDefault("MAVEN_OPTS", "") + " -Duser.home=" + home).trim());
        env.put("NODE_JAVA_OPTS", "-Xms32m -Xmx128m");
        env.put("BALANCER_JAVA_OPTS", "-Xms32m -Xmx128m");
        env.put("STARTUP_TIMEOUT", "90");
        Path out = dir.resolve("run-local.out");
        List<ProcessHandle> started = new ArrayList<>();
        try (LocalFiles files = new LocalFiles()) {
            Process script = files.start(clone, out, env, "env", "--default-signal=INT", "scripts/run-local.sh");
            try {
                await().atMost(BUILD_AND_START).pollInterval(Duration.ofMillis(500))
                        .until(() -> output(out).contains("Press Ctrl-C") || !script.isAlive());
                assertTrue(script.isAlive(), output(out) + buildLog(data));
                assertTrue(output(out).contains("building"), "a fresh copy is built: " + output(out));

                HttpResponse<String> post = files.postJson(ports.balancer(), "/posts",
                        "{\"author\":\"newcomer\",\"text\":\"hello from a fresh clone\"}");
                assertEquals(201, post.statusCode(), post.body());
                assertTrue(files.get(ports.balancer(), "/timeline").body().contains("hello from a fresh clone"));
                started.addAll(runningProcesses(data.resolve("run")));
                assertEquals(4, started.size(), "three nodes and the balancer: " + started);

                LocalFiles.Result interrupt = LocalFiles.run(clone, Map.of(), "kill", "-INT",
                        Long.toString(script.pid()));
                assertEquals(0, interrupt.status(), interrupt.output());
                assertTrue(script.waitFor(120, TimeUnit.SECONDS), "Ctrl-C stops the script: " + output(out));
                assertEquals(130, script.exitValue(), output(out));
            } finally {
                for (ProcessHandle p : runningProcesses(data.resolve("run"))) {
                    p.destroyForcibly();
                }
            }
        }
        String said = output(out);
        assertTrue(said.contains("stopped."), said);
        for (ProcessHandle p : started) {
            assertFalse(p.isAlive(), "still running after Ctrl-C: " + p.pid() + "\n" + said);
        }
        try (var left = Files.list(data.resolve("run"))) {
            assertEquals(List.of(), left.filter(p -> p.toString().endsWith(".pid")).toList(), "pid files left");
        }
    }

    /**
     * Copies the files git knows of (committed or not, ignored ones excluded) from {@code root} into
     * {@code to}, keeping the executable bit: what a clone of the working tree would hold.
     */
    private static void copyTrackedFiles(Path root, Path to) throws IOException, InterruptedException {
        ProcessBuilder b = new ProcessBuilder("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
                .directory(root.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD);
        Process git = b.start();
        String names = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(git.waitFor(60, TimeUnit.SECONDS) && git.exitValue() == 0, "git ls-files in " + root);
        for (String name : names.split("\0")) {
            Path from = root.resolve(name);
            if (name.isEmpty() || !Files.isRegularFile(from)) {
                continue; // deleted in the working tree, or a submodule
            }
            Path target = to.resolve(name);
            Files.createDirectories(target.getParent());
            Files.copy(from, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
    }

    /**
     * A home folder for Maven: {@code .m2/settings.xml} says offline, and {@code .m2/repository} holds
     * every artifact of this build's local repository (linked, not copied) except {@code io/fulcrum}:
     * what a machine that never installed Fulcrum holds.
     */
    private static Path mavenHomeWithoutFulcrum(Path home) throws IOException {
        Path from = Path.of(System.getProperty("fulcrum.maven.repo",
                System.getProperty("user.home") + "/.m2/repository")).toAbsolutePath();
        assertTrue(Files.isDirectory(from.resolve("org/apache/maven/plugins")), "no local Maven repository at "
                + from + " (set fulcrum.maven.repo)");
        Path m2 = home.resolve(".m2");
        linkAllBut(from, m2.resolve("repository"), "io");
        linkAllBut(from.resolve("io"), m2.resolve("repository/io"), "fulcrum");
        Files.writeString(m2.resolve("settings.xml"), "<settings><offline>true</offline></settings>\n");
        return home;
    }

    private static void linkAllBut(Path from, Path to, String except) throws IOException {
        Files.createDirectories(to);
        if (!Files.isDirectory(from)) {
            return;
        }
        try (var entries = Files.list(from)) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                if (!name.equals(except)) {
                    Files.createSymbolicLink(to.resolve(name), entry);
                }
            }
        }
    }

    /** The live processes whose pid files the script keeps in {@code run}. */
    private static List<ProcessHandle> runningProcesses(Path run) throws IOException {
        List<ProcessHandle> alive = new ArrayList<>();
        if (!Files.isDirectory(run)) {
            return alive;
        }
        try (var pids = Files.list(run)) {
            for (Path p : pids.filter(f -> f.toString().endsWith(".pid")).toList()) {
                try {
                    ProcessHandle.of(Long.parseLong(Files.readString(p).trim())).filter(ProcessHandle::isAlive)
                            .ifPresent(alive::add);
                } catch (IOException | NumberFormatException e) {
                    // removed or half written while the script stops
                }
            }
        }
        return alive;
    }

    private static String output(Path out) throws IOException {
        return Files.exists(out) ? Files.readString(out) : "";
    }

    private static String buildLog(Path data) throws IOException {
        Path log = data.resolve("logs/build.log");
        return Files.exists(log) ? "\nbuild.log:\n" + Files.readString(log) : "";
    }
}
