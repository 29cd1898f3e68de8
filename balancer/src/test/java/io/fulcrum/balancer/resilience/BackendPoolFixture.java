package io.fulcrum.balancer.resilience;

import static org.awaitility.Awaitility.await;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.routing.BackendState;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A balancer in front of {@link NettyBackend}s named b1, b2, ...; closed by the test's {@code @AfterEach} with {@link #close()}. */
final class BackendPoolFixture {
    static final Duration WAIT = Duration.ofSeconds(20);

    final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    final NettyBackend[] backends;
    Balancer balancer;

    BackendPoolFixture(int count) throws InterruptedException {
        backends = new NettyBackend[count];
        for (int i = 0; i < count; i++) {
            backends[i] = new NettyBackend("b" + (i + 1), group, 0);
        }
    }

    /** Starts the balancer with these YAML sections and waits until it is ready. */
    BackendPoolFixture start(String sections) throws Exception {
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (NettyBackend b : backends) {
            ports.put(b.name, b.port());
        }
        balancer = Resilience.start(Resilience.config(ports, sections));
        await().atMost(WAIT).until(balancer::ready);
        return this;
    }

    BackendState state(String id) {
        return balancer.registry().current().byId(id).state();
    }

    /** Stops the balancer, then kills the backends. */
    void close() throws Exception {
        if (balancer != null) {
            balancer.close();
        }
        for (NettyBackend b : backends) {
            b.release();
            b.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
