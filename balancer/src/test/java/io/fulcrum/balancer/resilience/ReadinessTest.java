package io.fulcrum.balancer.resilience;

import static io.fulcrum.balancer.resilience.BackendPoolFixture.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The readiness hook: ready once the first health round is in and some backend is routable. */
class ReadinessTest {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private Balancer balancer;
    private NettyBackend backend;

    @AfterEach
    void stop() throws Exception {
        if (balancer != null) {
            balancer.close();
        }
        if (backend != null) {
            backend.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void notReadyWhileTheOnlyBackendIsDownAndReadyOnceItPassesItsChecks() throws Exception {
        NettyBackend gone = new NettyBackend("b1", group, 0);
        int port = gone.port();
        gone.close();
        balancer = Resilience.start(Resilience.config(Map.of("b1", port), """
                health: { path: /health, interval: 100ms, timeout: 2s, rise: 2, fall: 3 }
                """));
        await().atMost(WAIT).until(() -> balancer.healthChecks().firstRoundComplete());
        assertFalse(balancer.ready(), "the first check failed: nothing to route to");

        backend = new NettyBackend("b1", group, port);
        await().atMost(WAIT).until(balancer::ready);
        assertTrue(balancer.registry().current().byId("b1").state().routable());
    }
}
