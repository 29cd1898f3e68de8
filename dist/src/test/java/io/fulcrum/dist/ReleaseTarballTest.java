package io.fulcrum.dist;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release as an operator gets it: {@code fulcrum-VERSION.tar.gz} unpacked into an empty folder,
 * with nothing but a JDK, runs {@code bin/fulcrum --check} on its example config, then starts a post
 * server with {@code bin/fulcrum-node} and the balancer with {@code bin/fulcrum}, and a post written
 * through the balancer comes back. The tarball's README names only what the tarball holds, and the
 * drain commands that it and the node's systemd unit give work as written against that balancer.
 * Runs in the integration-test phase, after the tarball is built.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ReleaseTarballTest {
    @TempDir
    Path dir;

    @Test
    void theTarballUnpacksChecksItsConfigAndServes() throws Exception {
        Path tarball = Path.of(System.getProperty("fulcrum.tarball"));
        String version = System.getProperty("fulcrum.version");
        assertTrue(Files.isRegularFile(tarball), tarball + " (run mvn package first)");
        Path installDir = dir.resolve("opt");
        Files.createDirectories(installDir);
        LocalFiles.Result untar = LocalFiles.run(installDir, Map.of(), "tar", "-xzf", tarball.toString());
        assertEquals(0, untar.status(), untar.output());
        Path home = installDir.resolve("fulcrum-" + version);

        for (String launcher : new String[] {"bin/fulcrum", "bin/fulcrum-node"}) {
            assertTrue(Files.isExecutable(home.resolve(launcher)), launcher);
        }
        for (String file : new String[] {"lib/balancer.jar", "lib/backend-node.jar", "config/balancer.yaml",
            "config/balancer-reference.yaml", "config/node-us-1.yaml", "README.md", "docs/operations.md"}) {
            assertTrue(Files.isRegularFile(home.resolve(file)), file);
        }
        assertReadmeNamesOnlyWhatIsShipped(home);
        String unit = Files.readString(home.resolve("deploy/systemd/fulcrum.service"));
        assertTrue(unit.contains("ExecReload=/opt/fulcrum/bin/fulcrum restart --config"), unit);
        assertTrue(unit.contains("ExecStart=/opt/fulcrum/bin/fulcrum --config"), unit);
        assertTrue(Files.readString(home.resolve("deploy/systemd/fulcrum-node@.service"))
                .contains("ExecStart=/opt/fulcrum/bin/fulcrum-node --config /etc/fulcrum/node-%i.yaml"));

        // Only a JDK: the launchers find java through JAVA, and the jars next to them.
        Map<String, String> env = Map.of("JAVA", LocalFiles.java(), "FULCRUM_JAR", "", "FULCRUM_NODE_JAR", "");
        LocalFiles.Result check = LocalFiles.run(home, env, "bin/fulcrum", "--config", "config/balancer.yaml",
                "--check");
        assertEquals(0, check.status(), check.output());
        assertTrue(check.output().contains("OK (3 backends)"), check.output());
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "listen: { port: 8080 }\nbackends:\n  - { id: a, url: \"ftp://x\" }\n");
        LocalFiles.Result refused = LocalFiles.run(home, env, "bin/fulcrum", "--config", bad.toString(), "--check");
        assertEquals(2, refused.status(), refused.output());
        assertTrue(refused.output().contains("backends[0].url"), refused.output());

        // For real: the shipped example configs on free ports, one node and the balancer.
        LocalFiles.Ports ports = LocalFiles.Ports.free();
        Path etc = dir.resolve("etc");
        LocalFiles.writeConfigs(home.resolve("config"), etc, ports, dir.resolve("posts.db"));
        try (LocalFiles files = new LocalFiles()) {
            files.start(home, dir.resolve("node.log"), Map.of("JAVA", LocalFiles.java(),
                    "FULCRUM_NODE_HEAP_MIN", "64m", "FULCRUM_NODE_HEAP_MAX", "128m"),
                    "bin/fulcrum-node", "--config", etc.resolve("node-us-1.yaml").toString());
            files.start(home, dir.resolve("balancer.log"), Map.of("JAVA", LocalFiles.java(), "FULCRUM_HEAP", "64m"),
                    "bin/fulcrum", "--config", etc.resolve("balancer.yaml").toString());
            files.awaitOk(ports.admin(), "/health");
            // us-2 and eu-1 are not running: the balancer routes around them.
            await().atMost(LocalFiles.WAIT).ignoreExceptions().untilAsserted(() -> {
                HttpResponse<String> post = files.postJson(ports.balancer(), "/posts",
                        "{\"author\":\"ops\",\"text\":\"installed from the tarball\"}");
                assertEquals(201, post.statusCode(), post.body());
                assertEquals("us-1", post.headers().firstValue("X-Fulcrum-Backend").orElseThrow());
            });
            HttpResponse<String> timeline = files.get(ports.balancer(), "/timeline");
            assertEquals(200, timeline.statusCode());
            assertTrue(timeline.body().contains("installed from the tarball"), timeline.body());
            assertEquals(404, files.get(ports.balancer(), "/metrics").statusCode(),
                    "the node's metrics are not on the public port");
            assertTrue(files.get(ports.us1Admin(), "/metrics").body().contains("fulcrum_node_requests_seconds"));

            // Moving traffic away from us-1 as the unit file and the README say, and back as the README says.
            List<String> drains = new ArrayList<>();
            drains.addAll(curlCommands(home.resolve("deploy/systemd/fulcrum-node@.service"), "/backends/us-1/drain"));
            drains.addAll(curlCommands(home.resolve("README.md"), "/backends/us-1/drain"));
            List<String> enables = curlCommands(home.resolve("README.md"), "/backends/us-1/enable");
            assertEquals(2, drains.size(), "the unit's and the README's drain commands: " + drains);
            assertEquals(1, enables.size(), "the README's enable command: " + enables);
            for (String drain : drains) {
                assertEquals("200", runCurl(home, drain, ports.admin()), drain);
                assertTrue(draining(files, ports.admin(), "us-1"), drain);
                assertEquals("200", runCurl(home, enables.get(0), ports.admin()), enables.get(0));
                assertTrue(!draining(files, ports.admin(), "us-1"), enables.get(0));
            }
        }
        assertTrue(Files.readString(dir.resolve("balancer.log")).contains("stopping: draining"),
                "SIGTERM drains the balancer");
    }

    /** Paths the README may name: the tarball's folders, and the source tree's, which must not appear. */
    private static final Pattern SHIPPED_PATH = Pattern.compile("(?<![\\w./-])(?:/opt/fulcrum/)?"
            + "((?:bin|lib|config|deploy|docs|scripts|backend-node|balancer|config-support|dist)/[\\w.@*/-]*[\\w*])");
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)#]+)\\)");

    /** Every file, folder or glob the README names (in text, commands or links) is in the release. */
    private static void assertReadmeNamesOnlyWhatIsShipped(Path home) throws IOException {
        String readme = Files.readString(home.resolve("README.md"));
        List<String> named = new ArrayList<>();
        Matcher m = SHIPPED_PATH.matcher(readme);
        while (m.find()) {
            named.add(m.group(1));
        }
        Matcher links = LINK.matcher(readme);
        while (links.find()) {
            if (!links.group(1).contains("://")) {
                named.add(links.group(1));
            }
        }
        assertTrue(named.contains("bin/fulcrum") && named.contains("docs/operations.md"), "paths found: " + named);
        List<String> missing = new ArrayList<>();
        for (String path : named) {
            if (!exists(home, path)) {
                missing.add(path);
            }
        }
        assertEquals(List.of(), missing, "named in the release's README but not in the release");
    }

    private static boolean exists(Path home, String path) throws IOException {
        if (!path.contains("*")) {
            return Files.exists(home.resolve(path));
        }
        Path dir = home.resolve(path.substring(0, path.lastIndexOf('/')));
        PathMatcher glob = dir.getFileSystem().getPathMatcher("glob:" + path.substring(path.lastIndexOf('/') + 1));
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (var entries = Files.list(dir)) {
            return entries.anyMatch(p -> glob.matches(p.getFileName()));
        }
    }

    /** The {@code curl} command lines of a file (in a comment or an indented block) that name {@code path}. */
    private static List<String> curlCommands(Path file, String path) throws IOException {
        List<String> commands = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String command = line.replaceFirst("^[#\\s]*", "");
            if (command.startsWith("curl ") && command.contains(path)) {
                commands.add(command);
            }
        }
        return commands;
    }

    /** Runs a documented curl command with the admin port moved to {@code adminPort}; returns the status. */
    private static String runCurl(Path home, String command, int adminPort) throws Exception {
        String moved = command.replace("127.0.0.1:8081", "127.0.0.1:" + adminPort)
                .replaceFirst("^curl ", "curl -sS -o /dev/null -w %{http_code} --max-time 10 ");
        LocalFiles.Result r = LocalFiles.run(home, Map.of(), "bash", "-c", moved);
        assertEquals(0, r.status(), moved + ": " + r.output());
        return r.output().trim();
    }

    private static boolean draining(LocalFiles files, int adminPort, String id) throws IOException {
        JsonNode backends = new ObjectMapper().readTree(files.get(adminPort, "/backends").body());
        for (JsonNode b : backends.has("backends") ? backends.get("backends") : backends) {
            if (id.equals(b.path("id").asText())) {
                return b.path("draining").asBoolean();
            }
        }
        throw new AssertionError("no backend " + id + " in " + backends);
    }
}
