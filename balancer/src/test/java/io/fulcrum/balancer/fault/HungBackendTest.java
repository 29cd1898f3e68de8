package io.fulcrum.balancer.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import io.fulcrum.balancer.balancing.BackendState;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.Fleet;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import io.fulcrum.testing.ScriptedBackend.Fault;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 8, third row: a backend hangs under load (it accepts connections and requests and never
 * answers, as a stopped process looks from outside). With a per-try timeout below the response
 * timeout the balancer gives up on the hung try and retries elsewhere in time, so no GET fails.
 * Without one, each client gets its answer or its 504 within the response timeout, and the hung
 * backend stops receiving requests: under least-busy as soon as it holds requests it does not
 * answer (its cost rises with the time it has been busy without answering), under round-robin once
 * {@code outlier.consecutive-failures} of them timed out and it is ejected.
 */
class HungBackendTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void noGetFailsWhenThePerTryTimeoutIsBelowTheResponseTimeout() throws Exception {
        Fleet fleet = fx.fleet(3, BalancerYaml.underFault()
                .set("retry.per-try-timeout", "300ms").set("timeouts.response", "5s"));
        ScriptedBackend hung = fleet.backend(1);

        HttpLoad load = HttpLoad.to(fleet.port()).connections(16).requests(1500)
                .duration(Duration.ofSeconds(40)).script(seq -> HttpLoad.Request.get("/items/" + seq)).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> load.completed() >= 300);
        hung.fault(Fault.HANG);
        HttpLoad.Result result = load.await(Duration.ofSeconds(50));

        Fixtures.assertNoFailures(result, fleet.balancer());
        assertEquals(1500, result.total(), result.summary());
        assertTrue(hung.hungRequests() > 0, "the hung backend was tried: " + hung + "; " + result.summary());
    }

    @Test
    void underLeastBusyTheHungBackendStopsGettingRequestsAndEveryClientGetsItsAnswerOrItsTimeout() throws Exception {
        // Least-busy prices the hung backend out within milliseconds (it holds requests and answers
        // none), so it may never reach the failures in a row that eject it: it stops getting requests
        // either way, once the requests it holds have timed out.
        Fleet fleet = fx.fleet(3, hungFleetYaml());
        ScriptedBackend hung = fleet.backend(1);
        HttpLoad load = startLoad(fleet);
        await().atMost(Duration.ofSeconds(30)).until(() -> load.completed() >= 300);
        hung.fault(Fault.HANG);
        BackendState state = fx.state("b2");
        await("b2 ejected, or its requests timed out and none sent since").atMost(Duration.ofSeconds(20))
                .until(() -> state.ejected() || (hung.hungRequests() > 0 && state.inFlight() == 0));

        assertNoRequestReachesItLater(hung, load);
    }

    @Test
    void whenEachBackendTakesItsTurnTheHungBackendIsEjectedAfterTheRunOfTimeouts() throws Exception {
        // Round-robin keeps sending the hung backend its share, so its timeouts make a run.
        Fleet fleet = fx.fleet(3, hungFleetYaml().set("routing.policy", "round-robin"));
        ScriptedBackend hung = fleet.backend(1);
        HttpLoad load = startLoad(fleet);
        await().atMost(Duration.ofSeconds(30)).until(() -> load.completed() >= 300);
        hung.fault(Fault.HANG);
        // Once the requests it held have timed out too, every head sent to it before the ejection
        // has been counted, so a later one could only be sent after.
        BackendState state = fx.state("b2");
        await("b2 ejected and the requests it held timed out").atMost(Duration.ofSeconds(20))
                .until(() -> state.ejected() && state.inFlight() == 0);

        assertNoRequestReachesItLater(hung, load);
    }

    private static BalancerYaml hungFleetYaml() {
        return BalancerYaml.underFault()
                .set("timeouts.response", "1s")
                .set("outlier.consecutive-failures", "3").set("outlier.base-ejection", "60s")
                .set("outlier.max-ejected-percent", "50");
    }

    /**
     * A client waits at most the response timeout plus a margin for a loaded machine; a request
     * without any answer by then shows as NO_RESPONSE.
     */
    private static HttpLoad startLoad(Fleet fleet) {
        return HttpLoad.to(fleet.port()).connections(16).requests(1500)
                .duration(Duration.ofSeconds(40)).readTimeout(Duration.ofSeconds(3))
                .script(seq -> HttpLoad.Request.get("/items/" + seq)).start();
    }

    /**
     * 400 more requests complete and none of them reaches the hung backend; every request it took
     * ended as a 504 (the response timeout is the whole deadline, so an answer from a retry after it
     * would come late) and every other as a 200.
     */
    private static void assertNoRequestReachesItLater(ScriptedBackend hung, HttpLoad load) throws Exception {
        int before = hung.hungRequests();
        int done = load.completed();
        await().atMost(Duration.ofSeconds(30)).until(() -> load.completed() >= Math.min(1500, done + 400));
        int later = hung.hungRequests();
        HttpLoad.Result result = load.await(Duration.ofSeconds(50));

        assertTrue(result.matching(o -> o.status() != 200 && o.status() != 504).isEmpty(), result.summary());
        assertTrue(hung.hungRequests() > 0, "the hung backend was tried: " + hung + "; " + result.summary());
        assertEquals(hung.hungRequests(), result.matching(o -> o.status() == 504).size(),
                "every request the hung backend took ends as a 504: " + hung + "; " + result.summary());
        assertEquals(before, later, "requests reaching the hung backend later; " + result.summary());
    }
}
