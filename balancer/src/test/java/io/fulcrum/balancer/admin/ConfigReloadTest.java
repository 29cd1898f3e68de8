package io.fulcrum.balancer.admin;

import static io.fulcrum.balancer.admin.AdminTestSupport.backend;
import static io.fulcrum.balancer.admin.AdminTestSupport.ids;
import static io.fulcrum.balancer.admin.AdminTestSupport.json;
import static io.fulcrum.balancer.admin.AdminTestSupport.sample;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.config.ConfigLoader;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RunningBalancer;
import io.fulcrum.testing.ScriptedBackend;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Hot reload through POST /reload and file changes, over real sockets. */
class ConfigReloadTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();
    private ScriptedBackend backendA;
    private ScriptedBackend backendB;
    private ScriptedBackend backendC;
    private Path dir;
    private Path file;
    private final AdminTestSupport http = new AdminTestSupport();
    private RunningBalancer lb;

    @BeforeEach
    void start() throws Exception {
        // Each answers every path, AdminTestSupport.HEALTH_PATH included, with a 200.
        ScriptedBackend[] backends = fx.backends("a", "b", "c");
        backendA = backends[0];
        backendB = backends[1];
        backendC = backends[2];
        dir = fx.dir();
        file = dir.resolve("balancer.yaml");
        Files.writeString(file, AdminTestSupport.yaml("", "a=" + backendA.port(), "b=" + backendB.port()));
        lb = RunningBalancer.startReady(fx.closeAfter(new Balancer(ConfigLoader.load(file), 1, file)),
                AdminTestSupport.TIMEOUT);
    }

    private static int hits(ScriptedBackend backend) {
        // Proxied requests only: the health probes go to AdminTestSupport.HEALTH_PATH.
        return backend.requests() - backend.requests("GET", AdminTestSupport.HEALTH_PATH);
    }

    /** Replaces the file in one step, as editors and config managers do (write aside, rename). */
    private void replaceFile(String yaml) throws IOException {
        Path tmp = dir.resolve("balancer.yaml.tmp");
        Files.writeString(tmp, yaml);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void sendTraffic(int n) {
        for (int i = 0; i < n; i++) {
            assertEquals(200, http.get(lb.traffic(), "/ok").statusCode());
        }
    }

    @Test
    void postReloadAddsAndRemovesBackendsAndKeepsLiveStateOfKeptIds() throws Exception {
        sendTraffic(4);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertEquals(2, backend(json(http.get(lb.admin(), "/backends")), "a").get("requests").asLong()));
        long generationBefore = lb.balancer().registry().current().generation();
        int bHitsBefore = hits(backendB);

        Files.writeString(file, AdminTestSupport.yaml("", "a=" + backendA.port(), "c=" + backendC.port()));
        HttpResponse<String> r = http.post(lb.admin(), "/reload");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode body = json(r);
        assertEquals("reloaded", body.get("status").asText());
        assertTrue(body.get("generation").asLong() > generationBefore);

        JsonNode backends = json(http.get(lb.admin(), "/backends"));
        assertEquals(List.of("a", "c"), ids(backends));
        assertEquals(2, backend(backends, "a").get("requests").asLong(), "a kept its live counters");
        assertEquals(0, backend(backends, "c").get("requests").asLong());

        sendTraffic(6);
        assertEquals(bHitsBefore, hits(backendB), "the removed backend gets nothing new");
        assertTrue(hits(backendC) > 0, "the added backend takes traffic");

        String metrics = http.get(lb.admin(), "/metrics").body();
        assertNull(sample(metrics, "fulcrum_backend_in_flight{backend=\"b\"}"), "b's meters were removed");
        assertEquals(0.0, sample(metrics, "fulcrum_backend_in_flight{backend=\"c\"}"));
        assertTrue(sample(metrics, "fulcrum_config_reload_total{result=\"success\"}") >= 1.0, metrics);
    }

    @Test
    void aBadFileKeepsTheOldConfigAndReportsTheFieldAndLine() throws Exception {
        Files.writeString(file, AdminTestSupport.yaml("", "a=" + backendA.port()) + "  - { id: b, url: \"ftp://x\" }\n");
        HttpResponse<String> r = http.post(lb.admin(), "/reload");
        assertEquals(400, r.statusCode());
        JsonNode body = json(r);
        assertTrue(body.get("error").asText().contains("previous config"));
        String problem = body.get("problems").get(0).asText();
        assertTrue(problem.contains("backends[1].url") && problem.contains("(line 7)"), problem);

        assertEquals(List.of("a", "b"), ids(json(http.get(lb.admin(), "/backends"))), "old pool still in force");
        sendTraffic(4);
        assertEquals(2, hits(backendB), "b (from the old config) still serves");

        JsonNode status = json(http.get(lb.admin(), "/config/status"));
        assertFalse(status.get("lastReload").get("applied").asBoolean());
        assertEquals(problem, status.get("lastReload").get("problems").get(0).asText());
        assertEquals(file.toAbsolutePath().toString(), status.get("file").asText());

        // The file watcher may see the same edit and reject it once more: at least one failure,
        // counted under one name.
        String metrics = http.get(lb.admin(), "/metrics").body();
        assertTrue(sample(metrics, "fulcrum_config_reload_total{result=\"failure\"}") >= 1.0, metrics);
        assertNull(sample(metrics, "fulcrum_config_reload_failures_total"), metrics);
        assertEquals(0.0, sample(metrics, "fulcrum_config_reload_total{result=\"success\"}"));
    }

    @Test
    void reloadSwapsRequestSettingsAndNamesWhatNeedsARestart() throws Exception {
        assertTrue(http.get(lb.traffic(), "/ok").headers().firstValue("x-backend").isEmpty());
        String yaml = AdminTestSupport.yaml("backend-header: X-Backend\n", "a=" + backendA.port(), "b=" + backendB.port())
                .replace("admin: { host: 127.0.0.1, port: 0 }", "admin: { host: 127.0.0.1, port: 1 }");
        Files.writeString(file, yaml);
        HttpResponse<String> r = http.post(lb.admin(), "/reload");
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("admin.port", json(r).get("restartNeeded").get(0).asText());
        assertEquals(lb.admin(), lb.balancer().adminPort(), "the admin port stays where it is until a restart");

        String backendId = http.get(lb.traffic(), "/ok").headers().firstValue("x-backend").orElse("");
        assertTrue(backendId.equals("a") || backendId.equals("b"), "backend header now on: " + backendId);
    }

    @Test
    void sighupReloadsTheFile() throws Exception {
        // Sending HUP to a JVM without our handler would stop it, so only signal once it is in place.
        assumeTrue(lb.balancer().reloader().installSignalHandler(), "SIGHUP handling not available on this platform");
        lb.balancer().reloader().close(); // stop the file watcher: the signal alone must cause the reload
        Files.writeString(file, AdminTestSupport.yaml("", "a=" + backendA.port()));
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid())).start();
        assertTrue(kill.waitFor(10, TimeUnit.SECONDS));
        assertEquals(0, kill.exitValue());
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertEquals(List.of("a"), ids(json(http.get(lb.admin(), "/backends")))));
        assertEquals("SIGHUP", json(http.get(lb.admin(), "/config/status")).get("lastReload").get("trigger").asText());
    }

    @Test
    void anUnchangedFileReloadsAsANoOp() {
        long generation = lb.balancer().registry().current().generation();
        HttpResponse<String> r = http.post(lb.admin(), "/reload");
        assertEquals(200, r.statusCode());
        assertEquals(generation, json(r).get("generation").asLong());
    }

    @Test
    void changingTheFileReloadsItWithoutAnyRequest() throws Exception {
        replaceFile(AdminTestSupport.yaml("", "a=" + backendA.port(), "b=" + backendB.port(), "c=" + backendC.port()));
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertEquals(List.of("a", "b", "c"), ids(json(http.get(lb.admin(), "/backends")))));
        JsonNode status = json(http.get(lb.admin(), "/config/status"));
        assertEquals("file change", status.get("lastReload").get("trigger").asText());
        assertTrue(status.get("lastReload").get("applied").asBoolean());

        // A broken edit is seen too, and changes nothing.
        replaceFile("backends: [ {id: a, url: http://127.0.0.1:" + backendA.port() + ", weight: zero} ]\n");
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            JsonNode last = json(http.get(lb.admin(), "/config/status")).get("lastReload");
            assertFalse(last.get("applied").asBoolean());
            assertTrue(last.get("problems").get(0).asText().contains("backends[0].weight"), last.toString());
        });
        assertEquals(List.of("a", "b", "c"), ids(json(http.get(lb.admin(), "/backends"))));
    }

    @Test
    void aConfigMapStyleSymlinkSwapIsSeenAndFilesWrittenBesideTheConfigAreNot() throws Exception {
        // Kubernetes mounts a ConfigMap as name -> ..data/name and swaps ..data to a new folder.
        Path mount = Files.createDirectories(dir.resolve("mount"));
        Path v1 = Files.createDirectories(mount.resolve("..v1"));
        Files.writeString(v1.resolve("balancer.yaml"), AdminTestSupport.yaml("", "a=" + backendA.port()));
        Files.createSymbolicLink(mount.resolve("..data"), Path.of("..v1"));
        Path linked = Files.createSymbolicLink(mount.resolve("balancer.yaml"), Path.of("..data/balancer.yaml"));
        try (Balancer mounted = new Balancer(ConfigLoader.load(linked), 1, linked).start()) {
            int port = mounted.adminPort();
            await().atMost(AdminTestSupport.TIMEOUT).until(mounted::ready);
            long generation = json(http.get(port, "/config/status")).get("generation").asLong();

            // An access log written beside the config: no reload.
            Path beside = mount.resolve("access.log");
            for (int i = 0; i < 50; i++) {
                Files.writeString(beside, "line " + i + "\n", java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            }
            Path v2 = Files.createDirectories(mount.resolve("..v2"));
            Files.writeString(v2.resolve("balancer.yaml"), AdminTestSupport.yaml("", "a=" + backendA.port(),
                    "b=" + backendB.port()));
            Path swap = mount.resolve("..data_tmp");
            Files.createSymbolicLink(swap, Path.of("..v2"));
            Files.move(swap, mount.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

            await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                    assertEquals(List.of("a", "b"), ids(json(http.get(port, "/backends")))));
            JsonNode status = json(http.get(port, "/config/status"));
            assertEquals("file change", status.get("lastReload").get("trigger").asText());
            assertEquals(generation + 1, status.get("generation").asLong(), "one reload, for the swap only");
        }
    }
}
