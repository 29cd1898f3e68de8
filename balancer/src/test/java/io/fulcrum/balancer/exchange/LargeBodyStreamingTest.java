package io.fulcrum.balancer.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.GeneratedBody;
import io.fulcrum.testing.ScriptedBackend;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Proves that bodies stream: 256 MiB up and 256 MiB down pass through a balancer that runs in its
 * own JVM with a 256 MiB heap (so the limit really applies to it), and arrive intact (length and
 * CRC32 checked end to end). A balancer that aggregated either body would run out of memory.
 */
class LargeBodyStreamingTest {
    private static final long SIZE = 256L * 1024 * 1024;
    private static final Pattern PORT = Pattern.compile("Fulcrum balancer on port (\\d+)");

    @RegisterExtension
    final Fixtures fx = new Fixtures();
    private Process balancer;
    private final List<String> balancerLog = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        ScriptedBackend backend = fx.backend("big").echo(true);
        Path config = fx.dir().resolve("balancer.yaml");
        Files.writeString(config, "listen: { host: 127.0.0.1, port: 0 }\n"
                + "admin: { host: 127.0.0.1, port: 0 }\n"
                + "backends:\n  - { id: big, url: \"http://127.0.0.1:" + backend.port() + "\" }\n"
                + "timeouts: { response: 60s }\n"
                + "limits: { max-body-bytes: " + (4 * SIZE) + " }\n"
                + "access-log: \"off\"\n");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        balancer = new ProcessBuilder(java, "-Xmx256m", "-XX:MaxDirectMemorySize=256m",
                "-cp", System.getProperty("java.class.path"),
                "io.fulcrum.balancer.BalancerMain", "--config", config.toString(), "--threads", "2")
                .redirectErrorStream(true).start();
        fx.closeAfter(this::stop);
    }

    private void stop() throws InterruptedException {
        balancer.destroy();
        if (!balancer.waitFor(20, TimeUnit.SECONDS)) {
            balancer.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Reads the child's output (it must be drained anyway) until it names its port. */
    private int awaitPort() throws Exception {
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(balancer.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (balancerLog) {
                        balancerLog.add(line);
                    }
                    Matcher m = PORT.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
                port.completeExceptionally(new IOException("balancer exited: " + balancerLog));
            } catch (IOException e) {
                port.completeExceptionally(e);
            }
        }, "balancer-output");
        reader.setDaemon(true);
        reader.start();
        return port.get(60, TimeUnit.SECONDS);
    }

    @Test
    void streams256MiBUpAndDownThroughABalancerWithA256MiBHeap() throws Exception {
        int port = awaitPort();

        // Upload, framed by Content-Length.
        HttpURLConnection up = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/upload")
                .toURL().openConnection();
        up.setRequestMethod("POST");
        up.setDoOutput(true);
        up.setFixedLengthStreamingMode(SIZE);
        up.setReadTimeout(120_000);
        try (OutputStream out = up.getOutputStream()) {
            GeneratedBody.writeTo(out, SIZE);
        }
        assertEquals(200, up.getResponseCode());
        long expectedCrc = ScriptedBackend.expectedCrc32(SIZE);
        assertEquals(String.valueOf(SIZE), up.getHeaderField("X-Echo-Body-Length"));
        assertEquals(String.valueOf(expectedCrc), up.getHeaderField("X-Echo-Body-Crc32"));
        up.getInputStream().readAllBytes();

        // Download, chunked by the backend.
        HttpURLConnection down = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/download?bytes="
                + SIZE + "&chunked=true").toURL().openConnection();
        down.setReadTimeout(120_000);
        assertEquals(200, down.getResponseCode());
        CRC32 crc = new CRC32();
        long total = 0;
        try (InputStream in = down.getInputStream()) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                crc.update(buf, 0, n);
                total += n;
            }
        }
        assertEquals(SIZE, total);
        assertEquals(expectedCrc, crc.getValue());
        assertTrue(balancer.isAlive(), "the balancer must still run: " + balancerLog);
        synchronized (balancerLog) {
            assertTrue(balancerLog.stream().noneMatch(l -> l.contains("OutOfMemoryError")), balancerLog.toString());
        }
    }
}
