package io.fulcrum.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** curl, run as a process by tests that want the client operators try first. */
public final class Curl {
    private static final Path CURL = Path.of("/usr/bin/curl");

    private Curl() {
    }

    /** Skips the test with a message where curl is not installed; fails it instead in CI, which installs it. */
    public static void requireInstalled() {
        if (!Files.isExecutable(CURL)) {
            String message = "curl not installed (" + CURL + "): apt-get install curl";
            if ("true".equals(System.getenv("CI"))) {
                fail(message);
            }
            abort("Skipping: " + message);
        }
    }

    /** Runs curl with {@code args} (silent, errors shown, 20 s at most); fails unless it exits 0; returns its output. */
    public static String run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(CURL.toString(), "-sS", "--max-time", "20"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("curl did not finish: " + command);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "curl " + String.join(" ", args) + ": " + out);
        return out;
    }
}
