package io.fulcrum.balancer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart without a gap, with real balancer processes: a second one started with
 * {@code --replace} binds the same port beside the first (SO_REUSEPORT), then has it stop; the
 * first stops accepting and drains, answering its keep-alive clients' next requests with
 * {@code Connection: close}. Client loops on new connections and on kept-alive ones run through
 * the whole handover, and not one of their requests fails.
 */
class ZeroGapRestartTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();
    private final List<String> output = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicInteger closesAsked = new AtomicInteger();
    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private ScriptedBackend backend;

    @AfterEach
    void stopAll() throws InterruptedException {
        stop.set(true);
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (backend != null) {
            backend.close();
        }
    }

    private Process start(Path config, Path pidFile, boolean replace) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                "io.fulcrum.balancer.BalancerMain", "--config", config.toString(), "--threads", "2",
                "--pid-file", pidFile.toString()));
        if (replace) {
            command.add("--replace");
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(p);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    output.add(p.pid() + ": " + line);
                }
            } catch (IOException e) {
                // the process is gone
            }
        }, "balancer-output");
        reader.setDaemon(true);
        reader.start();
        return p;
    }

    private static boolean names(Path pidFile, Process p) {
        try {
            return Files.readString(pidFile).trim().equals(Long.toString(p.pid()));
        } catch (IOException e) {
            return false;
        }
    }

    /** New connections, one request each. */
    private void freshConnections(int port) {
        while (!stop.get()) {
            try (RawHttpClient c = RawHttpClient.connect(port, 10_000)) {
                c.send("GET /fresh HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
                check(c.readResponse());
            } catch (IOException | RuntimeException e) {
                failures.add("new connection: " + e);
            }
        }
    }

    /** One kept-alive connection at a time, opened again after a response that closes it. */
    private void keptAlive(int port) {
        RawHttpClient c = null;
        while (!stop.get()) {
            try {
                if (c == null) {
                    c = RawHttpClient.connect(port, 10_000);
                }
                c.send("GET /kept HTTP/1.1\r\nHost: h\r\n\r\n");
                RawHttpClient.Response r = c.readResponse();
                check(r);
                if ("close".equalsIgnoreCase(r.header("Connection"))) {
                    closesAsked.incrementAndGet();
                    c.close();
                    c = null;
                }
            } catch (IOException | RuntimeException e) {
                failures.add("kept-alive connection: " + e);
                c = null;
            }
        }
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }

    private void check(RawHttpClient.Response r) {
        if (r.status() == 200) {
            answered.incrementAndGet();
        } else {
            failures.add("status " + r.status() + ": " + r.bodyText());
        }
    }

    @Test
    void aReplacingProcessTakesThePortWhileTheOldOneDrainsAndNoRequestFails() throws Exception {
        backend = ScriptedBackend.start("b1");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("balancer.yaml");
        Files.writeString(config, """
                listen: { host: 127.0.0.1, port: %d }
                admin: { host: 127.0.0.1, port: 0 }
                health: { enabled: false }
                access-log: off
                timeouts: { drain: 10s }
                backends:
                  - { id: b1, url: "http://127.0.0.1:%d" }
                """.formatted(port, backend.port()));
        Path pidFile = dir.resolve("fulcrum.pid");
        Process first = start(config, pidFile, false);
        await().atMost(WAIT).until(() -> names(pidFile, first) || !first.isAlive());
        assertTrue(first.isAlive(), "the first balancer stopped: " + output);

        List<Thread> clients = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            clients.add(new Thread(() -> freshConnections(port), "fresh-" + i));
            clients.add(new Thread(() -> keptAlive(port), "kept-" + i));
        }
        clients.forEach(Thread::start);
        await().atMost(WAIT).until(() -> answered.get() >= 400);

        Process second = start(config, pidFile, true);
        assertTrue(first.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "the first balancer did not stop: " + output);
        assertTrue(names(pidFile, second), "the pid file names the second balancer: " + output);
        int atHandover = answered.get();
        await().atMost(WAIT).until(() -> answered.get() >= atHandover + 400 || !second.isAlive());
        stop.set(true);
        for (Thread t : clients) {
            t.join(WAIT.toMillis());
        }
        assertTrue(second.isAlive(), "the second balancer stopped: " + output);
        assertEquals(List.of(), failures, answered.get() + " answered; " + output);
        assertTrue(closesAsked.get() >= 2, "the old balancer's kept-alive clients were asked to close: "
                + closesAsked.get());
        assertTrue(output.stream().anyMatch(l -> l.contains("taking over from process " + first.pid())), output::toString);
    }
}
