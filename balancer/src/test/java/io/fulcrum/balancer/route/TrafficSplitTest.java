package io.fulcrum.balancer.route;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A route's split between pools (a canary), end to end: real balancer, one backend per pool, real
 * HTTP/1.1 clients over loopback. Shares are checked within a tolerance wide enough that a fair
 * draw fails it about once in a million runs.
 */
class TrafficSplitTest {
    private static final int REQUESTS = 2000;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private ScriptedBackend v1;
    private ScriptedBackend v2;

    private BalancerYaml yaml(int w1, int w2, String splitBy) {
        return BalancerYaml.forProxy().set("backend-header", Fixtures.BACKEND_HEADER).append("""
                pools:
                  v1: { backends: [{ id: v1, url: "http://127.0.0.1:%d" }] }
                  v2: { backends: [{ id: v2, url: "http://127.0.0.1:%d" }] }
                routes:
                  - split: [{ pool: v1, weight: %d }, { pool: v2, weight: %d }]
                """.formatted(v1.port(), v2.port(), w1, w2) + (splitBy == null ? "" : "    split-by: " + splitBy + "\n"));
    }

    private Balancer start(int w1, int w2, String splitBy) throws Exception {
        v1 = fx.backend("v1");
        v2 = fx.backend("v2");
        return fx.balancer(yaml(w1, w2, splitBy));
    }

    @Test
    void eachPoolTakesItsWeightedShareOfTheRequests() throws Exception {
        Balancer balancer = start(80, 20, null);
        HttpLoad.Result result = Fixtures.getsWithoutFailures(balancer, "/", 8, REQUESTS);
        int canary = result.servedBy("v2");
        assertEquals(REQUESTS, canary + result.servedBy("v1"), result.summary());
        // 20% of 2000 is 400, with a standard deviation of about 18: 5 of them either side.
        assertTrue(canary > 310 && canary < 490, "v2 served " + canary + " of " + REQUESTS);
    }

    @Test
    void aClientWithItsKeyStaysOnOnePoolAndTheKeysShareByWeight() throws Exception {
        Balancer balancer = start(70, 30, "header:X-User-Id");
        int users = 400;
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(8).requests(users * 3L)
                .script(seq -> new HttpLoad.Request("GET", "/", Map.of("X-User-Id", "user-" + seq % users), null))
                .run();
        Fixtures.assertNoFailures(result, balancer);
        Map<String, String> poolOf = new HashMap<>();
        Set<String> canaryUsers = new HashSet<>();
        for (HttpLoad.Outcome o : result.outcomes()) {
            String user = o.request().headers().get("X-User-Id");
            String before = poolOf.putIfAbsent(user, o.backend());
            assertTrue(before == null || before.equals(o.backend()), user + " went to " + before + " and "
                    + o.backend());
            if ("v2".equals(o.backend())) {
                canaryUsers.add(user);
            }
        }
        assertEquals(users, poolOf.size());
        // 30% of 400 users is 120, with a standard deviation of about 9.
        assertTrue(canaryUsers.size() > 75 && canaryUsers.size() < 165, canaryUsers.size() + " users on v2");
    }

    @Test
    void aStickyClientKeepsItsCanaryWhenTheCanaryGrows() throws Exception {
        Balancer balancer = start(95, 5, "header:X-User-Id");
        Set<String> onCanary = usersOn(balancer, "v2");
        fx.reload(yaml(80, 20, "header:X-User-Id"));
        Set<String> after = usersOn(balancer, "v2");
        assertTrue(after.containsAll(onCanary), "users on v2 at 5%: " + onCanary + "; at 20%: " + after);
        assertTrue(after.size() > onCanary.size(), onCanary.size() + " then " + after.size());
    }

    private static Set<String> usersOn(Balancer balancer, String backend) throws InterruptedException {
        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(4).requests(300)
                .script(seq -> new HttpLoad.Request("GET", "/", Map.of("X-User-Id", "u" + seq), null)).run();
        Set<String> users = new HashSet<>();
        for (HttpLoad.Outcome o : result.outcomes()) {
            assertTrue(o.ok(), result.summary());
            if (backend.equals(o.backend())) {
                users.add(o.request().headers().get("X-User-Id"));
            }
        }
        return users;
    }

    @Test
    void reloadsThatMoveTheWeightUnderLoadLoseNoRequest() throws Exception {
        Balancer balancer = start(100, 0, null);
        HttpLoad load = HttpLoad.to(balancer.port()).connections(12).requests(3000)
                .duration(Duration.ofSeconds(60)).start();
        int[][] steps = {{90, 10}, {50, 50}, {10, 90}, {0, 100}};
        for (int[] step : steps) {
            int before = load.completed();
            await().atMost(Fixtures.WAIT).until(() -> load.completed() >= before + 300);
            fx.reload(yaml(step[0], step[1], null));
        }
        int atLastReload = v1.requests();
        HttpLoad.Result result = load.await(Duration.ofSeconds(60));
        Fixtures.assertNoFailures(result, balancer);
        assertEquals(3000, result.total(), result.summary());
        assertEquals(Map.of(200, 3000), result.statuses(), result.summary());
        assertTrue(v2.requests() > 0 && atLastReload > 0, "v1 " + atLastReload + ", v2 " + v2.requests());
        // After the last reload, v1 takes nothing: at most the requests already on their way.
        assertTrue(v1.requests() - atLastReload <= 12, (v1.requests() - atLastReload) + " requests to v1 after weight 0");
    }
}
