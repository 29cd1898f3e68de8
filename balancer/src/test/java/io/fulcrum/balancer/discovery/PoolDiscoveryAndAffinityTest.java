package io.fulcrum.balancer.discovery;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A named pool with its own discovery and affinity beside the pool "default": the file feeds only
 * its pool, and each pool hashes or pins by its own block.
 */
class PoolDiscoveryAndAffinityTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private static void write(Path file, ScriptedBackend... backends) throws Exception {
        StringBuilder s = new StringBuilder("backends:\n");
        for (ScriptedBackend b : backends) {
            s.append("  - { id: ").append(b.name()).append(", url: \"http://127.0.0.1:").append(b.port()).append("\" }\n");
        }
        Path tmp = file.resolveSibling("files.tmp");
        Files.writeString(tmp, s);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Set<String> ids(Balancer balancer, String pool) {
        return balancer.registry(pool).current().backends().stream().map(Backend::id).collect(Collectors.toSet());
    }

    @Test
    void aPoolDiscoversItsBackendsAndHashesByPathWhileTheDefaultPoolPinsByCookie() throws Exception {
        ScriptedBackend d1 = fx.backend("d1");
        ScriptedBackend d2 = fx.backend("d2");
        ScriptedBackend[] f = {fx.backend("f1"), fx.backend("f2"), fx.backend("f3")};
        Path file = fx.dir().resolve("files.yaml");
        write(file, f[0], f[1]);
        Balancer balancer = fx.balancer(BalancerYaml.create().backends(d1, d2).merge("""
                routing: { policy: round-robin, slow-start: 0s }
                affinity: { cookie: { name: SRV } }
                """).append("""
                pools:
                  files:
                    discovery: { file: "%s" }
                    affinity: { hash: { on: path } }
                routes:
                  - { match: { path: { prefix: /files } }, pool: files }
                default-pool: default
                """.formatted(file)));
        assertEquals(Set.of("d1", "d2"), ids(balancer, "default"));
        assertEquals(Set.of("f1", "f2"), ids(balancer, "files"));

        HttpLoad.Result byPath = HttpLoad.to(balancer.port()).connections(1).requests(200)
                .script(seq -> HttpLoad.Request.get("/files/" + (seq % 20))).run();
        assertEquals(List.of(), byPath.failures(), byPath.summary());
        Map<String, Set<String>> servedByPath = new HashMap<>();
        byPath.outcomes().forEach(o -> servedByPath.computeIfAbsent(o.request().target(), k -> new java.util.HashSet<>())
                .add(o.backend()));
        servedByPath.forEach((path, served) -> assertEquals(1, served.size(), path + " went to " + served));
        assertEquals(Set.of("f1", "f2"), servedByPath.values().stream().flatMap(Set::stream).collect(Collectors.toSet()));

        HttpLoad.Result plain = HttpLoad.to(balancer.port()).connections(1).requests(4).run();
        assertEquals(Set.of("d1", "d2"), plain.servedBy().keySet(), "the default pool without a cookie: round-robin");

        write(file, f[1], f[2]);
        await().atMost(WAIT).until(() -> ids(balancer, "files").equals(Set.of("f2", "f3")));
        assertEquals(Set.of("d1", "d2"), ids(balancer, "default"), "the file feeds its pool only");
        HttpLoad.Result after = HttpLoad.to(balancer.port()).connections(1).requests(200)
                .script(seq -> HttpLoad.Request.get("/files/" + (seq % 20))).run();
        assertEquals(List.of(), after.failures(), after.summary());
        assertTrue(after.servedBy("f3") > 0 && after.servedBy("f1") == 0, after.servedBy().toString());
    }
}
