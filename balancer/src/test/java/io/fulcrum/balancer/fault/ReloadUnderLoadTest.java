package io.fulcrum.balancer.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 8, sixth row: ten reloads under load that add backends, remove them and move them to a new
 * address. No request fails, and no request that a client started after a reload had completed
 * reaches a backend that this reload removed, or the old address of one it moved. Each backend
 * server records the sequence numbers of the requests it received; the load records when each
 * request started.
 */
class ReloadUnderLoadTest {
    private static final int REQUESTS = 3000;
    private static final int BETWEEN_RELOADS = 150;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    /** A server taken out of the config (removed, or the old address of a moved id). */
    private record Retired(String id, ScriptedBackend server, long atNanos) {
    }

    @Test
    void noRequestFailsAndNoneReachesARemovedOrOldAddressAcrossTenReloads() throws Exception {
        Map<String, ScriptedBackend> pool = new LinkedHashMap<>();
        for (String id : List.of("a", "b", "c")) {
            pool.put(id, fx.backend(id + "-1"));
        }
        Balancer balancer = fx.balancer(yaml(pool));
        HttpLoad load = HttpLoad.to(balancer.port()).connections(16).requests(REQUESTS)
                .duration(Duration.ofSeconds(45)).script(seq -> HttpLoad.Request.get("/items/" + seq)).start();

        List<Retired> retired = new ArrayList<>();
        String[] steps = {"add d", "remove a", "move b", "add e", "remove c", "move d", "add f", "remove e",
            "move f", "move b"};
        int generation = 1;
        for (String step : steps) {
            int before = load.completed();
            await().atMost(Duration.ofSeconds(30)).until(() -> load.completed() >= before + BETWEEN_RELOADS);
            String[] words = step.split(" ");
            String id = words[1];
            ScriptedBackend old = pool.get(id);
            switch (words[0]) {
                case "add" -> pool.put(id, fx.backend(id + "-1"));
                case "remove" -> pool.remove(id);
                default -> pool.put(id, fx.backend(id + "-" + (++generation)));
            }
            fx.reload(yaml(pool));
            if (old != null) {
                retired.add(new Retired(id, old, System.nanoTime()));
            }
        }
        HttpLoad.Result result = load.await(Duration.ofSeconds(50));

        assertTrue(result.failures().isEmpty(), result.summary());
        assertEquals(REQUESTS, result.total(), result.summary());
        Map<Long, Long> startOf = result.outcomes().stream()
                .collect(Collectors.toMap(HttpLoad.Outcome::seq, HttpLoad.Outcome::startNanos));
        for (Retired r : retired) {
            List<Long> late = r.server().loadSeqs().stream()
                    .filter(seq -> startOf.getOrDefault(seq, Long.MIN_VALUE) > r.atNanos()).toList();
            assertTrue(late.isEmpty(), r.server().name() + " (" + r.id() + "'s old or removed server) received "
                    + late.size() + " requests started after its reload completed, first "
                    + late.subList(0, Math.min(10, late.size())) + "; "
                    + result.summary());
        }
    }

    private static BalancerYaml yaml(Map<String, ScriptedBackend> pool) {
        BalancerYaml yaml = BalancerYaml.underFault();
        pool.forEach((id, server) -> yaml.backend(id, server.port()));
        return yaml;
    }
}
