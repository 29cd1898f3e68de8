package io.fulcrum.balancer.balancing;

import static io.fulcrum.balancer.balancing.RoutingFixtures.config;
import static io.fulcrum.balancer.balancing.RoutingFixtures.routing;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.config.RoutingConfig.Policy;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A pool that starts empty (DNS discovery before its first answer) takes its first backends at full share. */
class EmptyPoolFillsTest {
    private final FakeClock clock = new FakeClock();

    @Test
    void theFirstBackendsOfAnEmptyPoolDoNotSlowStartButLaterOnesDo() {
        BackendRegistry registry = new BackendRegistry("us-east",
                routing(Policy.ROUND_ROBIN, 0.8, List.of(), Duration.ofSeconds(10)), List.of(), clock,
                new SplittableRandom(1));
        assertEquals(null, registry.current().loadBalancer().select(RequestInfo.DEFAULT), "empty: nothing to choose");

        clock.advance(1, TimeUnit.SECONDS);
        registry.update("us-east", routing(Policy.ROUND_ROBIN, 0.8, List.of(), Duration.ofSeconds(10)),
                List.of(config("a", "us-east", 1, 10), config("b", "us-east", 1, 10)));
        assertEquals(Long.MIN_VALUE, registry.current().byId("a").state().recoveredAtNanos());
        assertEquals(Long.MIN_VALUE, registry.current().byId("b").state().recoveredAtNanos());

        clock.advance(1, TimeUnit.SECONDS);
        registry.update("us-east", routing(Policy.ROUND_ROBIN, 0.8, List.of(), Duration.ofSeconds(10)),
                List.of(config("a", "us-east", 1, 10), config("c", "us-east", 1, 10)));
        assertEquals(clock.nanoTime(), registry.current().byId("c").state().recoveredAtNanos(),
                "added beside others: slow start");
    }
}
