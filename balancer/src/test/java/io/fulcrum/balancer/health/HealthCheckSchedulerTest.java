package io.fulcrum.balancer.health;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.config.BackendConfig;
import io.fulcrum.balancer.config.HealthConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class HealthCheckSchedulerTest {
    private static final HealthConfig HEALTH =
            new HealthConfig("/health", Duration.ofMillis(50), Duration.ofMillis(500), 2, 2);
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension
    static final WireMockExtension one = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();
    @RegisterExtension
    static final WireMockExtension two = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();
    @RegisterExtension
    static final WireMockExtension three = WireMockExtension.newInstance().options(wireMockConfig().dynamicPort()).build();

    private EventLoopGroup group;
    private ScheduledExecutorService control;
    private BackendRegistry registry;
    private HealthCheckScheduler scheduler;

    @BeforeEach
    void start() {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        control = Executors.newSingleThreadScheduledExecutor();
        for (WireMockExtension wm : List.of(one, two, three)) {
            wm.stubFor(get("/health").willReturn(aResponse().withStatus(200).withBody("{\"load\":0.25}")));
        }
        registry = new BackendRegistry("local", HealthFixtures.routing(Duration.ZERO),
                List.of(HealthFixtures.config("b1", one.getPort()), HealthFixtures.config("b2", two.getPort())),
                NanoClock.SYSTEM, new SplittableRandom(1));
    }

    private HealthCheckScheduler scheduler(HealthChecker checker) {
        scheduler = new HealthCheckScheduler(registry, checker, new HealthTracker(HEALTH.rise(), HEALTH.fall()),
                HEALTH, control, new SplittableRandom(3));
        scheduler.start();
        return scheduler;
    }

    private HealthCheckScheduler httpScheduler() {
        return scheduler(new HttpHealthChecker(group, NioSocketChannel.class, HEALTH.path(), HEALTH.timeout()));
    }

    @AfterEach
    void stop() {
        if (scheduler != null) {
            scheduler.close();
        }
        control.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private Backend b(String id) {
        return registry.current().byId(id);
    }

    @Test
    void marksABackendDownAndUpAsItsHealthEndpointFlips() {
        httpScheduler();
        await().atMost(WAIT).until(scheduler::firstRoundComplete);
        assertTrue(b("b2").state().routable());

        two.stubFor(get("/health").willReturn(aResponse().withStatus(503)));
        await().atMost(WAIT).until(() -> !b("b2").state().healthy());
        assertFalse(b("b2").state().routable());
        assertTrue(b("b1").state().healthy(), "the other backend is untouched");

        two.stubFor(get("/health").willReturn(aResponse().withStatus(200)));
        await().atMost(WAIT).until(() -> b("b2").state().healthy());
        assertTrue(b("b2").state().routable());
    }

    @Test
    void storesTheReportedLoadOnTheBackend() {
        httpScheduler();
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.25, b("b1").state().reportedLoad(), 1e-9));
        one.stubFor(get("/health").willReturn(aResponse().withStatus(200).withBody("{\"load\":0.9}")));
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.9, b("b1").state().reportedLoad(), 1e-9));
    }

    @Test
    void followsBackendsAddedAndRemovedByAReload() {
        httpScheduler();
        // At least two: on a busy machine more probes may land before the condition is polled.
        await().atMost(WAIT).untilAsserted(() -> assertTrue(
                two.findAll(getRequestedFor(urlEqualTo("/health"))).size() >= 2, "b2 is probed"));
        List<BackendConfig> next = List.of(HealthFixtures.config("b1", one.getPort()),
                HealthFixtures.config("b3", three.getPort()));
        registry.update("local", HealthFixtures.routing(Duration.ZERO), next);

        await().atMost(WAIT).untilAsserted(() -> assertTrue(
                three.findAll(getRequestedFor(urlEqualTo("/health"))).size() >= 2, "the added backend is probed"));
        int removedSoFar = two.findAll(getRequestedFor(urlEqualTo("/health"))).size();
        int oneSoFar = one.findAll(getRequestedFor(urlEqualTo("/health"))).size();
        // Five more rounds on a backend that stayed; at most one probe to b2 was already in flight.
        await().atMost(WAIT).until(() -> one.findAll(getRequestedFor(urlEqualTo("/health"))).size() >= oneSoFar + 5);
        assertTrue(two.findAll(getRequestedFor(urlEqualTo("/health"))).size() <= removedSoFar + 1,
                "the removed backend is no longer probed");
    }

    @Test
    void theFirstRoundIsCompleteOnlyWhenEveryBackendAnswered() throws Exception {
        Map<String, CompletableFuture<HealthCheckResult>> firstProbe = new ConcurrentHashMap<>();
        scheduler(backend -> {
            CompletableFuture<HealthCheckResult> f = new CompletableFuture<>();
            return firstProbe.putIfAbsent(backend.id(), f) == null ? f
                    : CompletableFuture.completedFuture(HealthFixtures.ok());
        });
        await().atMost(WAIT).until(() -> firstProbe.size() == 2);
        firstProbe.get("b1").complete(HealthFixtures.ok());
        HealthFixtures.drain(control);
        assertFalse(scheduler.firstRoundComplete());
        firstProbe.get("b2").complete(HealthFixtures.bad());
        HealthFixtures.drain(control);
        assertTrue(scheduler.firstRoundComplete());
    }

    @Test
    void aFlipRebuildsTheSnapshot() {
        httpScheduler();
        await().atMost(WAIT).until(scheduler::firstRoundComplete);
        long generation = registry.current().generation();
        one.stubFor(get("/health").willReturn(aResponse().withStatus(500)));
        await().atMost(WAIT).until(() -> registry.current().generation() > generation
                && !registry.current().byId("b1").state().healthy());
        // The routing snapshot now avoids b1.
        for (int i = 0; i < 50; i++) {
            assertEquals("b2", registry.current().loadBalancer().select(io.fulcrum.balancer.balancing.RequestInfo.DEFAULT).id());
        }
    }
}
