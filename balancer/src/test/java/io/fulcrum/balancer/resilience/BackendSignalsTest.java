package io.fulcrum.balancer.resilience;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
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
import org.slf4j.LoggerFactory;

/**
 * What a backend signals and how the balancer follows it: its health checks decide readiness, the
 * load it reports steers traffic, and a draining backend is left to finish.
 */
class BackendSignalsTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    /** The readiness hook: ready once the first health round is in and some backend is routable. */
    @Test
    void notReadyWhileTheOnlyBackendIsDownAndReadyOnceItPassesItsChecks() throws Exception {
        ScriptedBackend backend = fx.backend("b1");
        backend.kill();
        Balancer balancer = fx.balancer(BalancerYaml.frequentChecks().backend("b1", backend.port()));
        await().atMost(WAIT).until(() -> balancer.healthChecks().firstRoundComplete());
        assertFalse(balancer.ready(), "the first check failed: nothing to route to");

        backend.restart();
        await().atMost(WAIT).until(balancer::ready);
        assertTrue(balancer.registry().current().byId("b1").state().routable());
    }

    /** The load a backend reports in its health answer steers traffic away from it. */
    @Test
    void aBackendReportingHighLoadGetsClearlyLessTraffic() throws Exception {
        Fleet fleet = fx.readyFleet(3, BalancerYaml.frequentChecks().merge("""
                routing: { slow-start: 0s }
                retry: { attempts: 2, budget-percent: 20 }
                """));
        List<ScriptedBackend> backends = fleet.backends();
        backends.get(0).load(0.9);
        backends.get(1).load(0.1);
        backends.get(2).load(0.1);
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.9, fx.state("b1").reportedLoad(), 1e-9));
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.1, fx.state("b2").reportedLoad(), 1e-9));
        await().atMost(WAIT).untilAsserted(() -> assertEquals(0.1, fx.state("b3").reportedLoad(), 1e-9));

        int requests = 600;
        Fixtures.getsWithoutFailures(fleet.balancer(), "/items", 8, requests);
        double busy = backends.get(0).requests() / (double) requests;
        double light1 = backends.get(1).requests() / (double) requests;
        double light2 = backends.get(2).requests() / (double) requests;
        LoggerFactory.getLogger(BackendSignalsTest.class).info("shares by reported load 0.9/0.1/0.1: {} {} {}",
                busy, light1, light2);
        // An equal share is 1/3 each.
        assertTrue(busy < 0.2, "the busy backend's share: " + busy);
        // Each light backend takes more than the busy one; how the two split the rest follows
        // their latencies, which a loaded test machine makes uneven.
        assertTrue(light1 > busy && light2 > busy && light1 + light2 > 0.8,
                "the light backends' shares: " + light1 + ", " + light2);
    }

    /** A draining backend finishes what it has and gets nothing new. */
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
