package io.fulcrum.balancer.grpc;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendState;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.BackendProtocol;
import io.fulcrum.balancer.health.HealthCheckResult;
import io.fulcrum.balancer.health.HttpHealthChecker;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The HTTP check ({@code GET /health}) of an {@code h2c} backend that is a grpc-java server: the
 * probe speaks HTTP/2, so the server answers it (it refuses a GET that is not a gRPC call) rather
 * than failing to parse it, and the result says that a gRPC check is the one to use.
 */
class GrpcServerHttpCheckTest {
    @Test
    void aGrpcServerAnswersTheHttpCheckOverHttp2AndTheResultNamesTheGrpcCheck() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try (GrpcBackend grpc = new GrpcBackend("a", timer)) {
            Backend b = new Backend(new BackendConfig("a", "127.0.0.1", grpc.port(), "local", 1, 1000)
                    .withProtocol(BackendProtocol.H2C), new BackendState(NanoClock.SYSTEM));
            HealthCheckResult r = new HttpHealthChecker(group, NioSocketChannel.class, "/health", Duration.ofSeconds(5))
                    .check(b).get(10, TimeUnit.SECONDS);
            assertFalse(r.healthy(), r.toString());
            assertTrue(r.status() >= 400, "answered over HTTP/2 with an HTTP status: " + r);
            assertTrue(r.detail().contains("health.type: grpc"), r.detail());
        } finally {
            timer.shutdownNow();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
