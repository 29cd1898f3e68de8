package io.fulcrum.dist;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.testing.TestHttp;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's demo, run for real with {@code scripts/run-local.sh} and {@code scripts/node.sh} on the
 * built jars: post through the balancer, kill a node (the cluster keeps serving and the script says
 * so), restart it, then stop the script while a request is in flight and a timeline page's event
 * stream is open: the balancer drains the request before the nodes stop, and ends the stream at
 * once instead of waiting for it to the end of the drain period. The example configs are moved to free ports and a temporary folder.
 *
 * <p>The stop is sent as SIGTERM: the script handles Ctrl-C (SIGINT) with the same function, but a
 * process launched from a background shell may have SIGINT ignored, which no script can undo.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class LocalClusterScriptTest {
    @TempDir
    Path dir;

    @Test
    void aNodeDiesAndComesBackWhileTheClusterServesAndStoppingDrainsFirst() throws Exception {
        Path root = LocalFiles.root();
        LocalFiles.Ports ports = LocalFiles.exampleConfigs(dir);
        Path config = dir.resolve("config");
        Path data = dir.resolve("data");
        Map<String, String> env = Map.of("FULCRUM_CONFIG_DIR", config.toString(), "FULCRUM_DATA_DIR", data.toString(),
                "FULCRUM_SKIP_BUILD", "1", "NODE_JAVA_OPTS", "-Xms32m -Xmx128m",
                "BALANCER_JAVA_OPTS", "-Xms32m -Xmx128m", "STARTUP_TIMEOUT", "90");
        Path out = dir.resolve("run-local.out");
        try (LocalFiles files = new LocalFiles()) {
            Process script = files.start(root, out, env, "scripts/run-local.sh");
            try {
                await().atMost(LocalFiles.WAIT).until(() -> output(out).contains("Press Ctrl-C")
                        || !script.isAlive());
                assertTrue(script.isAlive(), output(out));

                HttpResponse<String> post = files.postJson(ports.balancer(), "/posts",
                        "{\"author\":\"newcomer\",\"text\":\"my first post\"}");
                assertEquals(201, post.statusCode(), post.body());
                assertTrue(post.headers().firstValue("X-Fulcrum-Backend").isPresent(), "the local config names the node");
                assertEquals(404, files.get(ports.balancer(), "/metrics").statusCode());
                // Conditional GET and HEAD pass through the balancer.
                HttpResponse<String> timeline = files.get(ports.balancer(), "/timeline");
                String etag = timeline.headers().firstValue("ETag").orElseThrow();
                TestHttp balancer = files.http(ports.balancer());
                HttpResponse<String> unchanged = balancer.send(balancer.request("/timeline")
                        .header("If-None-Match", etag).GET().build());
                assertEquals(304, unchanged.statusCode());
                assertEquals("", unchanged.body());
                HttpResponse<String> head = balancer.send(balancer.request("/timeline")
                        .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
                assertEquals(200, head.statusCode());
                assertEquals(etag, head.headers().firstValue("ETag").orElseThrow());
                assertEquals("", head.body());

                LocalFiles.Result kill = LocalFiles.run(root, env, "scripts/node.sh", "kill", "us-2");
                assertEquals(0, kill.status(), kill.output());
                await().atMost(LocalFiles.WAIT).untilAsserted(() -> {
                    assertTrue(output(out).contains("node us-2 exited"), output(out));
                    assertTrue(output(out).contains("backend us-2 is down"), output(out));
                });
                assertTrue(script.isAlive(), "a dead node does not stop the cluster: " + output(out));
                for (int i = 0; i < 10; i++) {
                    assertEquals(200, files.get(ports.balancer(), "/timeline").statusCode());
                }
                String backends = files.get(ports.admin(), "/backends").body();
                assertTrue(backends.matches("(?s).*\"id\":\"us-2\"[^}]*\"healthy\":false.*"),
                        "the status page shows us-2 down: " + backends);

                LocalFiles.Result restart = LocalFiles.run(root, env, "scripts/node.sh", "restart", "us-2");
                assertEquals(0, restart.status(), restart.output());
                assertTrue(restart.output().contains("node us-2 is up"), restart.output());
                await().atMost(LocalFiles.WAIT).untilAsserted(() ->
                        assertTrue(output(out).contains("backend us-2 is healthy again"), output(out)));
                LocalFiles.Result status = LocalFiles.run(root, env, "scripts/node.sh", "status");
                assertEquals(3, status.output().split("running \\(pid").length - 1, status.output());

                // A request in flight when the script is told to stop: half a body sent, the rest after.
                byte[] body = "{\"author\":\"newcomer\",\"text\":\"sent while stopping\"}".getBytes(
                        StandardCharsets.UTF_8);
                // And a timeline page's event stream, open through the balancer: it must not hold the stop.
                Socket events = new Socket("127.0.0.1", ports.balancer());
                events.setSoTimeout(60_000);
                events.getOutputStream().write(("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                String eventsHead = readHead(events.getInputStream());
                assertTrue(eventsHead.startsWith("HTTP/1.1 200"), eventsHead);
                assertTrue(eventsHead.toLowerCase(java.util.Locale.ROOT).contains("text/event-stream"), eventsHead);
                try (Socket socket = new Socket("127.0.0.1", ports.balancer())) {
                    socket.setSoTimeout(60_000);
                    OutputStream o = socket.getOutputStream();
                    o.write(("POST /posts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            + "Connection: close\r\nContent-Length: " + body.length + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    o.write(body, 0, 10);
                    o.flush();
                    await().atMost(LocalFiles.WAIT).until(() -> inFlight(files, ports) > 0);
                    script.destroy(); // SIGTERM
                    await().atMost(LocalFiles.WAIT).until(() -> output(out).contains("stopping the balancer"));
                    o.write(body, 10, body.length - 10);
                    o.flush();
                    InputStream in = socket.getInputStream();
                    String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(answer.startsWith("HTTP/1.1 201"), "drained, not cut: " + answer);
                }
                try (events) {
                    String rest = new String(events.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    assertTrue(rest.endsWith("0\r\n\r\n"), "the event stream ends with its last chunk: " + rest);
                }
                assertTrue(script.waitFor(120, TimeUnit.SECONDS), output(out));
            } finally {
                stopLeftovers(data.resolve("run"));
            }
            String said = output(out);
            assertTrue(said.indexOf("stopping the balancer") < said.indexOf("stopping node"), said);
            assertTrue(said.contains("stopped."), said);
        }

        // Logs: appended after a start marker (us-2 started twice), plain text.
        String us2 = Files.readString(data.resolve("logs/node-us-2.log"));
        assertEquals(2, us2.split("===== ").length - 1, us2);
        for (String log : new String[] {"balancer", "node-us-1", "node-us-2", "node-eu-1"}) {
            assertFalse(Files.readString(data.resolve("logs/" + log + ".log")).contains("\u001b["), log);
        }
        String balancerLog = Files.readString(data.resolve("logs/balancer.log"));
        assertTrue(balancerLog.contains("stopping: draining"), balancerLog);
        assertFalse(balancerLog.contains("drain period of"), "nothing held the drain to its end: " + balancerLog);
        // The access log has a file of its own: the balancer's last lines are its messages.
        assertFalse(balancerLog.contains("\"method\":"), "no access lines in balancer.log: " + balancerLog);
        String accessLog = Files.readString(data.resolve("logs/access.log"));
        assertTrue(accessLog.lines().anyMatch(l -> l.startsWith("{") && l.contains("\"method\":\"POST\"")
                && l.contains("/posts")), accessLog);
        assertTrue(accessLog.lines().allMatch(l -> l.startsWith("{")), "JSON lines only: " + accessLog);
    }

    /** Reads a response head, through its blank line. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static int inFlight(LocalFiles files, LocalFiles.Ports ports) {
        String backends = files.get(ports.admin(), "/backends").body();
        int total = 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"inFlight\":(\\d+)").matcher(backends);
        while (m.find()) {
            total += Integer.parseInt(m.group(1));
        }
        return total;
    }

    private static String output(Path out) throws IOException {
        return Files.exists(out) ? Files.readString(out) : "";
    }

    /** Kills what a failed run may have left (the processes run in their own sessions). */
    private static void stopLeftovers(Path run) throws IOException {
        if (!Files.isDirectory(run)) {
            return;
        }
        try (var pids = Files.list(run)) {
            pids.filter(p -> p.toString().endsWith(".pid")).forEach(p -> {
                try {
                    long pid = Long.parseLong(Files.readString(p).trim());
                    ProcessHandle.of(pid).ifPresent(h -> {
                        h.destroyForcibly();
                        h.onExit().orTimeout(20, TimeUnit.SECONDS).exceptionally(e -> h).join();
                    });
                } catch (IOException | NumberFormatException e) {
                    // nothing to stop
                }
            });
        }
    }
}
