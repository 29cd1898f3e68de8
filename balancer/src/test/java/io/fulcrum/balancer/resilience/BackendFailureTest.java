package io.fulcrum.balancer.resilience;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.routing.BackendState;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A backend dies under load and comes back: no client sees an error, active checks mark it down,
 * passive detection takes it out (a hold-down at its first refused connect), and it takes traffic
 * again once it passes its rise checks.
 */
class BackendFailureTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private EventLoopGroup backendGroup;
    private final NettyBackend[] backends = new NettyBackend[3];
    private Balancer balancer;

    @BeforeEach
    void start() throws Exception {
        backendGroup = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (int i = 0; i < backends.length; i++) {
            backends[i] = new NettyBackend("b" + (i + 1), backendGroup, 0);
            ports.put(backends[i].name, backends[i].port());
        }
        balancer = Resilience.start(Resilience.config(ports, """
                routing: { slow-start: 500ms }
                health: { path: /health, interval: 100ms, timeout: 2s, rise: 2, fall: 3 }
                outlier: { consecutive-failures: 3, base-ejection: 1s, max-ejection: 5s, max-ejected-percent: 50 }
                retry: { attempts: 2, budget-percent: 100, per-try-timeout: 2s }
                """));
        await().atMost(WAIT).until(balancer::ready);
    }

    @AfterEach
    void stop() throws Exception {
        if (balancer != null) {
            balancer.close();
        }
        for (NettyBackend b : backends) {
            if (b != null) {
                b.close();
            }
        }
        backendGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private BackendState state(String id) {
        return balancer.registry().current().byId(id).state();
    }

    @Test
    void killingABackendUnderLoadLosesNoRequestAndItReturnsAfterRestart() throws Exception {
        try (Resilience.Load load = new Resilience.Load(balancer.port(), "/items", 8)) {
            Resilience.LoadResult before = load.run(1500);
            assertEquals(0, before.failures(), before.toString());
            assertTrue(backends[1].requests() > 0, "b2 served before it died");

            // Kill b2 while requests are running through the balancer.
            int port = backends[1].port();
            int startedAt = load.done.get();
            Future<Resilience.LoadResult> during = load.start(2000);
            await().atMost(WAIT).until(() -> load.done.get() >= startedAt + 300);
            backends[1].close();
            Resilience.LoadResult duringResult = during.get(60, TimeUnit.SECONDS);
            assertEquals(0, duringResult.failures(), "clients saw errors: " + duringResult);

            await().atMost(WAIT).untilAsserted(() -> {
                assertTrue(!state("b2").healthy(), "active checks mark the dead backend down");
                // Its first refused connect held it down at once; no run of failures was needed.
                assertTrue(state("b2").connectFailures() >= 1 || state("b2").ejections() >= 1,
                        "passive detection took it out");
            });
            assertTrue(state("b1").routable() && state("b3").routable(), "the live backends stay in");

            // Restart on the same port: it comes back after `rise` passed checks.
            backends[1] = new NettyBackend("b2", backendGroup, port);
            await().atMost(WAIT).until(() -> state("b2").routable());
            assertTrue(backends[1].healthChecks() >= 2, "rise is 2");
            assertTrue(state("b2").recoveredAtNanos() != Long.MIN_VALUE, "it ramps up through slow start");

            Resilience.LoadResult after = load.run(1500);
            assertEquals(0, after.failures(), after.toString());
            assertTrue(backends[1].requests() > 0, "the restarted backend takes traffic again");
            assertEquals(5000, before.total() + duringResult.total() + after.total());
            LoggerFactory.getLogger(BackendFailureTest.class).info(
                    "5000 requests, 0 errors; b2 ejections {}, served by b1 {}, b3 {}, restarted b2 {}; failed tries at b2 {}",
                    state("b2").ejections(), backends[0].requests(), backends[2].requests(), backends[1].requests(),
                    state("b2").errors());
        }
    }
}
