package io.fulcrum.balancer.resilience;

import static io.fulcrum.testing.Fixtures.WAIT;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
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

/**
 * With every backend failing, the attempts the backends see stay within {@code attempts} per
 * request and the retry budget. Backends hold each request until the test releases it, so the
 * number of retries does not depend on timing.
 */
class RetryBudgetTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();
    private ScriptedBackend[] backends;
    private Balancer balancer;

    private int attemptsAtBackends() {
        int n = 0;
        for (ScriptedBackend b : backends) {
            n += b.requests();
        }
        return n;
    }

    private int held() {
        int n = 0;
        for (ScriptedBackend b : backends) {
            n += b.holding();
        }
        return n;
    }

    /** Answers the requests held now at every backend as one wave; retries they cause stay held. */
    private void releaseAll() {
        List<Runnable> wave = new ArrayList<>();
        for (ScriptedBackend b : backends) {
            wave.addAll(b.takeHeld());
        }
        wave.forEach(Runnable::run);
    }

    /**
     * Three backends that answer every request with 503 behind a ready balancer that probes them
     * every 100 ms, never ejects them, and retries twice within a budget of {@code budgetPercent}.
     */
    private void startFailingBackends(int budgetPercent) throws Exception {
        backends = fx.backends(3);
        balancer = fx.readyBalancer(BalancerYaml.frequentChecks().backends(backends).merge("""
                outlier: { consecutive-failures: 1000 }
                retry: { attempts: 2, budget-percent: %d }
                """.formatted(budgetPercent)));
        for (ScriptedBackend b : backends) {
            b.status(503);
        }
    }

    /** {@code GET /items} {@code requests} times over {@code connections} connections. */
    private HttpLoad.Result getItems(int connections, int requests) throws InterruptedException {
        return HttpLoad.to(balancer.port()).connections(connections)
                .script(seq -> HttpLoad.Request.get("/items")).requests(requests).run();
    }

    @Test
    void eachRequestIsTriedAtMostOncePlusAttemptsEachTimeOnAnotherBackend() throws Exception {
        startFailingBackends(100);
        int requests = 20;
        HttpLoad.Result r = getItems(1, requests);
        assertEquals(requests, r.count(503), "the last 503 reaches the client: " + r);
        assertEquals(requests * 3, attemptsAtBackends(), "1 + attempts tries per request");
        for (ScriptedBackend b : backends) {
            assertEquals(requests, b.requests(), "each try of a request on a different backend: " + b.name());
        }
    }

    @Test
    void aZeroBudgetMeansNoRetries() throws Exception {
        startFailingBackends(0);
        int requests = 40;
        HttpLoad.Result r = getItems(4, requests);
        assertEquals(requests, r.count(503), r.summary());
        assertEquals(requests, attemptsAtBackends());
    }

    @Test
    void concurrentRetriesStayWithinTheBudget() throws Exception {
        startFailingBackends(20);
        for (ScriptedBackend b : backends) {
            b.hold(true);
        }
        int requests = 16;
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<CompletableFuture<HttpResponse<Void>>> responses = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            responses.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + balancer.port() + "/items/" + i)).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.discarding()));
        }
        await().atMost(WAIT).until(() -> held() == requests);
        // 16 live requests × 20% is 3, but one backend's share of them (16 / 3 backends, rounded
        // up) is 6, and 3 more are allowed for a backend holding more than its share: 9 first
        // tries are retried at once, whatever the others do.
        int allowed = 6 + 3;
        releaseAll();
        await().atMost(WAIT).until(() -> held() == allowed);
        // Those keep their retry slot for their second retry.
        releaseAll();
        await().atMost(WAIT).until(() -> held() == allowed);
        releaseAll();
        for (CompletableFuture<HttpResponse<Void>> f : responses) {
            assertEquals(503, f.get(20, TimeUnit.SECONDS).statusCode());
        }
        assertEquals(requests + allowed + allowed, attemptsAtBackends(),
                "16 first tries and 2 retries for " + allowed + " of them");
        assertEquals(0, balancer.proxy().retryBudget().activeRetries());
    }
}
