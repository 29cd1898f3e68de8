package io.fulcrum.balancer.discovery;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Backends from a watched file: edits apply under load without a failed request; a bad edit changes nothing. */
class FileDiscoveryTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private static Set<String> ids(Balancer balancer) {
        return balancer.registry().current().backends().stream().map(Backend::id).collect(Collectors.toSet());
    }

    /** Replaces the file in one step, as a deployment tool should. */
    private void write(Path file, String text) throws Exception {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static String yaml(ScriptedBackend... backends) {
        StringBuilder s = new StringBuilder("backends:\n");
        for (ScriptedBackend b : backends) {
            s.append("  - { id: ").append(b.name()).append(", url: \"http://127.0.0.1:").append(b.port()).append("\" }\n");
        }
        return s.toString();
    }

    @Test
    void editsOfTheFileAddAndRemoveBackendsUnderLoad() throws Exception {
        ScriptedBackend[] b = fx.backends(3);
        Path file = fx.dir().resolve("backends.yaml");
        write(file, yaml(b[0], b[1]));
        Balancer balancer = fx.balancer(BalancerYaml.create().set("routing.slow-start", "0s")
                .merge("discovery: { file: \"" + file + "\" }\n"));
        assertEquals(Set.of("b1", "b2"), ids(balancer), "read at start");

        HttpLoad load = HttpLoad.to(balancer.port()).connections(4).requests(200_000).duration(Duration.ofSeconds(60))
                .start();
        await().atMost(WAIT).until(() -> b[0].requests() > 20 && b[1].requests() > 20);

        // JSON is YAML too.
        write(file, "{\"backends\": [{\"id\": \"b2\", \"url\": \"http://127.0.0.1:" + b[1].port() + "\"},"
                + " {\"id\": \"b3\", \"url\": \"http://127.0.0.1:" + b[2].port() + "\", \"weight\": 2}]}");
        await().atMost(WAIT).until(() -> ids(balancer).equals(Set.of("b2", "b3")));
        assertEquals(2, balancer.registry().current().byId("b3").weight());
        // Requests chosen before the change (at most one per connection) may still reach b1: count
        // from when the new set has served a few, each connection's request in flight ended.
        int b3Swapped = b[2].requests();
        await().atMost(WAIT).until(() -> b[2].requests() > b3Swapped + 20);
        int b1Before = b[0].requests();
        int b3Before = b[2].requests();
        await().atMost(WAIT).until(() -> b[2].requests() > b3Before + 50);
        assertEquals(b1Before, b[0].requests(), "a removed backend gets no new request");

        long failures = balancer.discovery().failures();
        write(file, "backends:\n  - { id: b1 }\n");
        await().atMost(WAIT).until(() -> balancer.discovery().failures() > failures);
        assertEquals(Set.of("b2", "b3"), ids(balancer), "an invalid file keeps the last known set");
        int b2Before = b[1].requests();
        await().atMost(WAIT).until(() -> b[1].requests() > b2Before + 50);

        write(file, yaml(b[0]));
        await().atMost(WAIT).until(() -> ids(balancer).equals(Set.of("b1")));

        HttpLoad.Result r = load.stopAndAwait(WAIT);
        assertEquals(List.of(), r.failures(), r.summary());
        assertTrue(r.total() > 200, r.summary());
    }

    @Test
    void aReloadKeepsTheDiscoveredSetAndAppliesANewSource() throws Exception {
        ScriptedBackend[] b = fx.backends(3);
        Path one = fx.dir().resolve("one.yaml");
        Path two = fx.dir().resolve("two.yaml");
        write(one, yaml(b[0]));
        write(two, yaml(b[1], b[2]));
        BalancerYaml config = BalancerYaml.create().merge("discovery: { file: \"" + one + "\" }\n");
        Balancer balancer = fx.balancer(config);
        write(one, yaml(b[0], b[1]));
        await().atMost(WAIT).until(() -> ids(balancer).equals(Set.of("b1", "b2")));

        fx.reload(config.set("timeouts.response", "7s"));
        assertEquals(Set.of("b1", "b2"), ids(balancer), "an unrelated change keeps the discovered set");

        fx.reload(config.merge("discovery: { file: \"" + two + "\" }\n"));
        assertEquals(Set.of("b2", "b3"), ids(balancer), "a new file is read at the reload");
        write(two, yaml(b[2]));
        await("the new file is watched").atMost(WAIT).until(() -> ids(balancer).equals(Set.of("b3")));

        Path bad = fx.dir().resolve("bad.yaml");
        write(bad, "backends: [{ id: x }]\n");
        BalancerYaml broken = BalancerYaml.create().merge("discovery: { file: \"" + bad + "\" }\n");
        AssertionError refused = assertThrows(AssertionError.class, () -> fx.reload(broken));
        assertTrue(refused.getMessage().contains("backends[0].url"), refused.getMessage());
        assertEquals(Set.of("b3"), ids(balancer), "a refused reload changes nothing");
    }

    @Test
    void aBalancerDoesNotStartOnAnInvalidBackendsFile() throws Exception {
        Path file = fx.dir().resolve("backends.yaml");
        write(file, "backends:\n  - { id: b1, url: \"ftp://x\" }\n");
        BalancerYaml yaml = BalancerYaml.create().merge("discovery: { file: \"" + file + "\" }\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> fx.balancer(yaml));
        assertTrue(e.getMessage().contains("backends[0].url"), e.getMessage());
    }
}
