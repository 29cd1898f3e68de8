package io.fulcrum.balancer.resilience;

import static io.fulcrum.balancer.resilience.BackendPoolFixture.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A draining backend finishes what it has and gets nothing new. */
class DrainTest {
    private BackendPoolFixture pool;

    @AfterEach
    void stop() throws Exception {
        pool.close();
    }

    @Test
    void aDrainingBackendGetsNoNewRequestsWhileItsInFlightOnesFinish() throws Exception {
        pool = new BackendPoolFixture(2).start("""
                routing: { slow-start: 0s }
                health: { path: /health, interval: 100ms, timeout: 2s, rise: 2, fall: 3 }
                """);
        for (NettyBackend b : pool.backends) {
            b.hold = true;
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            slow.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + pool.balancer.port()
                    + "/slow/" + i)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        await().atMost(WAIT).until(() -> pool.backends[0].heldCount() + pool.backends[1].heldCount() == 6);
        NettyBackend drained = pool.backends[0].heldCount() >= pool.backends[1].heldCount()
                ? pool.backends[0] : pool.backends[1];
        NettyBackend other = drained == pool.backends[0] ? pool.backends[1] : pool.backends[0];
        int inFlight = drained.heldCount();
        assertTrue(inFlight >= 3);

        pool.state(drained.name).setDraining(true);
        pool.balancer.registry().refresh();
        other.hold = false;
        other.release();
        int before = drained.requests();
        try (Resilience.Load load = new Resilience.Load(pool.balancer.port(), "/fast", 4)) {
            Resilience.LoadResult r = load.run(100);
            assertEquals(0, r.failures(), r.toString());
        }
        assertEquals(before, drained.requests(), "no new request reached the draining backend");
        assertEquals(inFlight, drained.heldCount(), "its in-flight requests are still there");
        assertEquals(inFlight, pool.state(drained.name).inFlight());

        drained.release();
        for (CompletableFuture<HttpResponse<String>> f : slow) {
            assertEquals(200, f.get(20, TimeUnit.SECONDS).statusCode());
        }
        long servedByDrained = slow.stream().map(CompletableFuture::join)
                .filter(r -> r.body().equals(drained.name)).count();
        assertEquals(inFlight, servedByDrained, "the in-flight requests finished on the draining backend");
        await().atMost(WAIT).until(() -> pool.state(drained.name).inFlight() == 0);
    }
}
