package io.fulcrum.dist;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release as an operator gets it: {@code fulcrum-VERSION.tar.gz} unpacked into an empty folder,
 * with nothing but a JDK, runs {@code bin/fulcrum --check} on its example config, then starts a post
 * server with {@code bin/fulcrum-node} and the balancer with {@code bin/fulcrum}, and a post written
 * through the balancer comes back. Runs in the integration-test phase, after the tarball is built.
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
        String unit = Files.readString(home.resolve("deploy/systemd/fulcrum.service"));
        assertTrue(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"), unit);
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
        }
        assertTrue(Files.readString(dir.resolve("balancer.log")).contains("stopping: draining"),
                "SIGTERM drains the balancer");
    }
}
