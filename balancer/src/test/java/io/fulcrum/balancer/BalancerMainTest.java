package io.fulcrum.balancer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: {@code --check}, {@code --help}, {@code --version} and bad arguments. */
class BalancerMainTest {
    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return BalancerMain.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Whether nothing listens on the port, i.e. we can bind it ourselves. */
    private static boolean canBind(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return s.isBound();
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void checkAcceptsAGoodConfigAndBindsNothing() throws IOException {
        int port = freePort();
        Path file = dir.resolve("good.yaml");
        Files.writeString(file, "listen: { host: 127.0.0.1, port: " + port + " }\n"
                + "backends:\n  - { id: a, url: \"http://127.0.0.1:9001\" }\n  - { id: b, url: \"http://127.0.0.1:9002\" }\n");
        assertEquals(0, run("--config", file.toString(), "--check"));
        assertTrue(out.toString().contains("OK"), out.toString());
        assertTrue(out.toString().contains("2 backends"), out.toString());
        assertEquals("", err.toString());
        assertTrue(canBind(port), "--check must not listen");
    }

    @Test
    void checkRejectsABadConfigWithOneLinePerProblemAndExitStatus2() throws IOException {
        int port = freePort();
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "listen: { host: 127.0.0.1, port: " + port + " }\n"
                + "backends:\n"
                + "  - { id: a, url: \"ftp://127.0.0.1:9001\" }\n"
                + "  - { id: a, url: \"http://127.0.0.1:9002\" }\n"
                + "timeouts: { connect: soon }\n"
                + "colour: blue\n");
        assertEquals(2, run("--config", file.toString(), "--check"));
        String problems = err.toString();
        String[] lines = problems.strip().split("\\R");
        assertTrue(lines.length >= 4, problems);
        assertTrue(problems.contains("backends[0].url"), problems);
        assertTrue(problems.contains("backends[1].id"), problems);
        assertTrue(problems.contains("timeouts.connect"), problems);
        assertTrue(problems.contains("colour"), problems);
        assertTrue(problems.contains("line 3"), problems);
        assertTrue(canBind(port), "a bad config must not listen");
        for (String line : lines) {
            assertTrue(line.startsWith(file + ": "), "each line names the file: " + line);
        }
        assertTrue(problems.contains(file + ": backends[0].url: "), problems);
    }

    @Test
    void aBadConfigWithoutCheckAlsoExits2WithoutListening() throws IOException {
        int port = freePort();
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, "listen: { host: 127.0.0.1, port: " + port + " }\nbackends: []\n");
        assertEquals(2, run("--config", file.toString()));
        assertTrue(err.toString().contains("backends"), err.toString());
        assertTrue(canBind(port));
    }

    @Test
    void aMissingFileExits2() {
        assertEquals(2, run("--config", dir.resolve("nope.yaml").toString(), "--check"));
        assertTrue(err.toString().contains("nope.yaml"), err.toString());
    }

    @Test
    void helpDescribesTheOptions() {
        assertEquals(0, run("--help"));
        String help = out.toString();
        assertTrue(help.contains("--config"), help);
        assertTrue(help.contains("--check"), help);
        assertTrue(help.contains("--version"), help);
    }

    @Test
    void versionPrintsTheVersion() {
        assertEquals(0, run("--version"));
        assertTrue(out.toString().startsWith("fulcrum balancer "), out.toString());
    }

    @Test
    void aMissingConfigOptionIsAUsageError() {
        assertEquals(2, run("--check"));
        assertTrue(err.toString().contains("--config"), err.toString());
    }

    @Test
    void anUnknownOptionIsAUsageError() {
        int status = run("--config", dir.resolve("any.yaml").toString(), "--no-such-option");
        assertEquals(2, status);
        assertTrue(err.toString().contains("--no-such-option"), err.toString());
    }
}
