package io.fulcrum.balancer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A balancer started with SIGHUP ignored, as {@code nohup} does, cannot reload on SIGHUP; it says
 * so at start instead of announcing a handler that never runs. A real process, started under the
 * real {@code nohup}.
 */
class SighupUnderNohupTest {
    @TempDir
    Path dir;

    private Process process;
    private final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void stop() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Process start(boolean underNohup) throws Exception {
        Path config = dir.resolve("balancer.yaml");
        Files.writeString(config, """
                listen: { host: 127.0.0.1, port: 0 }
                admin: { host: 127.0.0.1, port: 0 }
                health: { enabled: false }
                access-log: off
                backends:
                  - { id: a, url: "http://127.0.0.1:9" }
                """);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>();
        if (underNohup) {
            command.add("nohup");
        } else if (canResetSighup()) {
            // A suite run under nohup passes SIGHUP ignored on to its children: set it back.
            command.addAll(List.of("env", "--default-signal=HUP"));
        }
        command.addAll(List.of(java, "-cp", System.getProperty("java.class.path"),
                "io.fulcrum.balancer.BalancerMain", "--config", config.toString(), "--threads", "1"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    lines.add(line);
                }
            } catch (java.io.IOException e) {
                // the process is gone
            }
        }, "balancer-output");
        reader.setDaemon(true);
        reader.start();
        return p;
    }

    /** Whether this machine's env(1) can reset a signal to its default (coreutils 9 and later). */
    private static boolean canResetSighup() {
        try {
            Process p = new ProcessBuilder("env", "--default-signal=HUP", "true").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (java.io.IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private boolean logged(String text) {
        synchronized (lines) {
            return lines.stream().anyMatch(l -> l.contains(text));
        }
    }

    @Test
    void saysSighupIsIgnoredWhenStartedUnderNohup() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/nohup")) || Files.isExecutable(Path.of("/bin/nohup")),
                "nohup is not installed");
        process = start(true);
        await().atMost(Duration.ofSeconds(30)).until(() -> logged("Fulcrum balancer on port") || !process.isAlive());
        assertFalse(!process.isAlive(), "the balancer stopped: " + lines);
        await().atMost(Duration.ofSeconds(5)).until(() -> logged("SIGHUP is ignored by this process"));
        assertFalse(logged("SIGHUP reloads the config"), lines.toString());
    }

    @Test
    void announcesSighupReloadWhenItCanReceiveIt() throws Exception {
        process = start(false);
        await().atMost(Duration.ofSeconds(30)).until(() -> logged("Fulcrum balancer on port") || !process.isAlive());
        assertFalse(!process.isAlive(), "the balancer stopped: " + lines);
        await().atMost(Duration.ofSeconds(5)).until(() -> logged("SIGHUP reloads the config"));
        assertFalse(logged("SIGHUP is ignored"), lines.toString());
    }
}
