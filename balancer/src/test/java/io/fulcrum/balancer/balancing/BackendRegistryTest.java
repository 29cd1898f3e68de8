package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.config;
import static io.fulcrum.balancer.balancing.RoutingFixtures.routing;
import static io.fulcrum.balancer.balancing.RoutingFixtures.tally;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.RoutingConfig.Policy;
import io.fulcrum.balancer.config.RoutingConfig;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class BackendRegistryTest {
    private final FakeClock clock = new FakeClock();
    private final RoutingConfig routing = routing(Policy.LEAST_BUSY, 0.8, List.of(), Duration.ofSeconds(10));

    @Test
    void liveStateSurvivesAReloadWhileTheIdStays() {
        BackendRegistry registry = registry(List.of(config("a", "us-east", 1, 10), config("b", "us-east", 1, 10)));
        Backend a = registry.current().byId("a");
        assertTrue(a.tryAcquire());
        a.state().onRequestEnd(TimeUnit.MILLISECONDS.toNanos(3), Outcome.SERVER_ERROR);
        assertTrue(a.tryAcquire());

        registry.update("us-east", routing, List.of(config("a", "us-east", 5, 20), config("c", "eu-west", 1, 10)));

        BackendSnapshot next = registry.current();
        Backend a2 = next.byId("a");
        assertNotSame(a, a2);
        assertSame(a.state(), a2.state());
        assertEquals(5, a2.weight(), "config comes from the new file");
        assertEquals(1, a2.state().inFlight());
        assertEquals(1, a2.state().errors());
        assertEquals(TimeUnit.MILLISECONDS.toNanos(3), a2.state().latencyEwmaNanos(), 1);
        assertNull(next.byId("b"), "removed backends leave the snapshot");
        assertEquals(2, next.generation());
    }

    @Test
    void aBackendAddedByAReloadStartsInSlowStartButTheFirstPoolDoesNot() {
        BackendRegistry registry = registry(List.of(config("a", "us-east", 1, 10)));
        assertEquals(Long.MIN_VALUE, registry.current().byId("a").state().recoveredAtNanos());

        clock.advance(1, TimeUnit.SECONDS);
        registry.update("us-east", routing, List.of(config("a", "us-east", 1, 10), config("b", "us-east", 1, 10)));

        BackendState b = registry.current().byId("b").state();
        assertEquals(clock.nanoTime(), b.recoveredAtNanos());
        assertEquals(BackendState.MIN_SLOW_START_FACTOR, b.slowStartFactor(clock.nanoTime(),
                routing.slowStart().toNanos()));
    }

    @Test
    void refreshAfterAHealthFlipRoutesAroundTheDownBackendAndNotifiesListeners() {
        BackendRegistry registry = registry(List.of(config("a", "us-east", 1, 10), config("b", "us-east", 1, 10)));
        List<Long> seen = new ArrayList<>();
        registry.subscribe(s -> seen.add(s.generation()));

        registry.current().byId("a").state().setHealthy(false);
        registry.refresh();

        LoadBalancer lb = registry.current().loadBalancer();
        assertEquals(Map.of("b", 50), tally(50, () -> lb.select(RequestInfo.DEFAULT)));
        assertEquals(List.of(2L), seen);
    }

    @Test
    void panicCountSurvivesRefreshes() {
        BackendRegistry registry = registry(List.of(config("a", "us-east", 1, 10)));
        registry.current().byId("a").state().setHealthy(false);
        registry.refresh();

        assertEquals("a", registry.current().loadBalancer().select(RequestInfo.DEFAULT).id());
        registry.refresh();
        assertEquals("a", registry.current().loadBalancer().select(RequestInfo.DEFAULT).id());

        assertEquals(2, registry.panicSelections());
    }

    @ParameterizedTest
    @EnumSource(Policy.class)
    void selectionAllocatesNothing(Policy policy) {
        List<BackendConfig> configs = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            configs.add(config("b" + i, i % 3 == 0 ? "eu-west" : "us-east", 1 + i % 3, 100));
        }
        BackendRegistry registry = new BackendRegistry("us-east",
                routing(policy, 0.8, List.of(), Duration.ofSeconds(10)), configs, clock, new SplittableRandom(1));
        registry.current().backends().forEach(b -> {
            assertTrue(b.tryAcquire());
            b.state().onRequestEnd(1_000_000, Outcome.SUCCESS);
        });
        registry.current().byId("b1").state().markRecovered(clock.nanoTime());
        LoadBalancer lb = registry.current().loadBalancer();
        RequestInfo fromEu = new RequestInfo("eu-west", List.of(registry.current().byId("b0")));
        Backend sink = null;
        for (int i = 0; i < 20_000; i++) {
            sink = lb.select(i % 2 == 0 ? RequestInfo.DEFAULT : fromEu);
        }

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        // Steady state is what counts: until the JIT has compiled the selection (later on a busy
        // machine), escape analysis has not removed its temporaries. Measured in rounds until one
        // is clean, at most 20.
        long allocated = Long.MAX_VALUE;
        for (int round = 0; round < 20 && allocated >= 4096; round++) {
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < 100_000; i++) {
                sink = lb.select(i % 2 == 0 ? RequestInfo.DEFAULT : fromEu);
            }
            allocated = threads.getThreadAllocatedBytes(id) - before;
        }

        assertTrue(sink != null);
        // 100,000 selections: one byte each would be 100 KB. What remains is the measurement itself.
        assertTrue(allocated < 4096, "selection allocated " + allocated + " bytes over 100,000 calls");
    }

    private BackendRegistry registry(List<BackendConfig> configs) {
        return new BackendRegistry("us-east", routing, configs, clock, new SplittableRandom(5));
    }
}
