package io.fulcrum.balancer.resilience;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.Fleet;
import io.fulcrum.testing.ScriptedBackend;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A draining backend finishes what it has and gets nothing new. */
class DrainTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void aDrainingBackendGetsNoNewRequestsWhileItsInFlightOnesFinish() throws Exception {
        Fleet fleet = fx.readyFleet(2, BalancerYaml.frequentChecks().set("routing.slow-start", "0s"));
        fleet.backends().forEach(b -> b.hold(true));
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            slow.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fleet.port()
                    + "/slow/" + i)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        ScriptedBackend b1 = fleet.backend(0);
        ScriptedBackend b2 = fleet.backend(1);
        await().atMost(WAIT).until(() -> b1.holding() + b2.holding() == 6);
        ScriptedBackend drained = b1.holding() >= b2.holding() ? b1 : b2;
        ScriptedBackend other = drained == b1 ? b2 : b1;
        int inFlight = drained.holding();
        assertTrue(inFlight >= 3);

        fx.state(drained.name()).setDraining(true);
        fleet.balancer().registry().refresh();
        other.hold(false);
        other.release();
        int before = drained.requests();
        Fixtures.getsWithoutFailures(fleet.balancer(), "/fast", 4, 100);
        assertEquals(before, drained.requests(), "no new request reached the draining backend");
        assertEquals(inFlight, drained.holding(), "its in-flight requests are still there");
        assertEquals(inFlight, fx.state(drained.name()).inFlight());

        drained.release();
        for (CompletableFuture<HttpResponse<String>> f : slow) {
            assertEquals(200, f.get(20, TimeUnit.SECONDS).statusCode());
        }
        long servedByDrained = slow.stream().map(CompletableFuture::join)
                .filter(r -> r.body().equals(drained.name())).count();
        assertEquals(inFlight, servedByDrained, "the in-flight requests finished on the draining backend");
        await().atMost(WAIT).until(() -> fx.state(drained.name()).inFlight() == 0);
    }
}
