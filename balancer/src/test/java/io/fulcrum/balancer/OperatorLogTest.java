package io.fulcrum.balancer;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.admin.ReloadResult;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.LogRecorder;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the balancer's log tells an operator about reloads and shutdown: the backends in force
 * after a reload (discovered ones included, and which are which), every rejected reload (a repeat
 * too, said to be one), and durations written as the config writes them.
 */
class OperatorLogTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private final LogRecorder log = LogRecorder.of("io.fulcrum.balancer");

    @AfterEach
    void detach() {
        log.close();
    }

    private List<String> lines(String containing) {
        return log.lines().stream().filter(l -> l.contains(containing)).toList();
    }

    @Test
    void theReloadLineCountsTheBackendsInForceStaticAndDiscovered() throws Exception {
        ScriptedBackend[] b = fx.backends(5);
        Path found = fx.dir().resolve("found.yaml");
        StringBuilder file = new StringBuilder("backends:\n");
        for (int i = 2; i < 5; i++) {
            file.append("  - { id: ").append(b[i].name()).append(", url: \"http://127.0.0.1:").append(b[i].port())
                    .append("\" }\n");
        }
        Files.writeString(found, file);
        BalancerYaml yaml = BalancerYaml.create().merge("discovery: { file: \"" + found + "\" }\n").append("""
                pools:
                  listed:
                    backends:
                      - { id: listed-1, url: "http://127.0.0.1:%d" }
                      - { id: listed-2, url: "http://127.0.0.1:%d" }
                """.formatted(b[0].port(), b[1].port()));
        Balancer balancer = fx.balancer(yaml);
        assertEquals(5, balancer.backendCount());

        fx.reload(yaml.set("retry.attempts", "1"));
        await().atMost(Fixtures.WAIT).until(() -> !lines(": applied ").isEmpty());
        String applied = lines(": applied ").get(0);
        assertTrue(applied.contains("(5 backends: 2 static, 3 discovered, generation "), applied);
    }

    @Test
    void everyRejectedReloadIsLoggedARepeatSaysItIsStillFailing() throws Exception {
        Balancer balancer = fx.balancer(BalancerYaml.create().backend("b1", fx.backend("b1").port()));
        balancer.reloader().close(); // no file watcher: only the reloads asked for here
        Files.writeString(fx.dir().resolve("balancer.yaml"), "backends: [{ id: b1, url: \"ftp://x\" }]\n");
        for (int i = 0; i < 3; i++) {
            ReloadResult r = balancer.reloader().reload("SIGHUP").get(10, TimeUnit.SECONDS);
            assertFalse(r.applied());
        }
        List<String> rejected = lines("config reload (SIGHUP) rejected");
        assertEquals(3, rejected.size(), rejected.toString());
        assertTrue(rejected.get(0).contains("keeping the previous config: backends[0].url"), rejected.get(0));
        assertFalse(rejected.get(0).contains("still failing"), rejected.get(0));
        for (String repeat : rejected.subList(1, 3)) {
            assertTrue(repeat.contains("(unchanged: still failing): backends[0].url"), repeat);
        }
    }

    @Test
    void aDurationIsLoggedAsTheConfigWritesIt() throws Exception {
        ScriptedBackend slow = fx.backend("slow").hold(true);
        Balancer balancer = fx.balancer(BalancerYaml.create().backend("slow", slow.port())
                .set("timeouts.drain", "250ms"));
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            c.send("GET /held HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(Fixtures.WAIT).until(() -> slow.holding() == 1);
            balancer.stop(Duration.ofMillis(250));
        }
        List<String> over = lines("drain period of");
        assertEquals(1, over.size(), log.lines().toString());
        assertTrue(over.get(0).contains("drain period of 250ms over"), over.get(0));
    }
}
