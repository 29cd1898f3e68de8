package io.fulcrum.balancer.fault;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.HttpLoad.Kind;
import io.fulcrum.testing.HttpLoad.Outcome;
import io.fulcrum.testing.ScriptedBackend;
import io.fulcrum.testing.ScriptedBackend.Fault;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 8, fourth row: one backend of three resets its connections, half of them after sending
 * the response head and half the body, a quarter before sending anything. A GET whose response had
 * not begun is retried and succeeds; a response already begun reaches the client visibly cut (the
 * connection closes before the announced length, or without the terminating chunk), never looking
 * complete with a short body. Both framings: Content-Length and chunked.
 */
class MidResponseResetTest {
    private static final int BODY_BYTES = 16 * 1024;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @ParameterizedTest(name = "chunked={0}")
    @ValueSource(booleans = {false, true})
    void responsesNotBegunSucceedAndBegunOnesEndVisiblyCut(boolean chunked) throws Exception {
        ScriptedBackend resetting = fx.backend("b1").bodyBytes(BODY_BYTES).fault(Fault.RESET_HALF);
        ScriptedBackend b2 = fx.backend("b2").bodyBytes(BODY_BYTES);
        ScriptedBackend b3 = fx.backend("b3").bodyBytes(BODY_BYTES);
        Balancer balancer = fx.balancer(BalancerYaml.create()
                .set("routing.policy", "round-robin")
                .set("retry.attempts", "2")
                .backend("b1", resetting.port()).backend("b2", b2.port()).backend("b3", b3.port()));
        Map<String, byte[]> bodies = Map.of("b1", resetting.expectedBody(), "b2", b2.expectedBody(),
                "b3", b3.expectedBody());

        HttpLoad.Result result = HttpLoad.to(balancer.port()).connections(8).requests(1200)
                .duration(Duration.ofSeconds(40))
                .script(seq -> HttpLoad.Request.get("/data/" + seq + (chunked ? "?chunked=true" : "")))
                .start().await(Duration.ofSeconds(50));

        List<Outcome> cut = result.matching(o -> o.kind() == Kind.CUT);
        List<Outcome> unanswered = result.matching(o -> o.kind() == Kind.NO_RESPONSE || o.status() != 200);
        assertTrue(unanswered.isEmpty(), "requests without a 200 head: " + unanswered.size() + "; " + result.summary());
        assertTrue(cut.size() <= resetting.resetsMidResponse(), "cut responses " + cut.size()
                + " but only " + resetting.resetsMidResponse() + " resets after the head; " + result.summary());
        for (Outcome o : result.matching(o -> o.kind() == Kind.ANSWERED)) {
            assertArrayEquals(bodies.get(o.backend()), o.body(), "complete-looking body of " + o);
        }
        assertTrue(resetting.resetsBeforeResponse() > 0 && resetting.resetsMidResponse() > 0,
                "the backend reset connections: " + resetting.resetsBeforeResponse() + " before and "
                        + resetting.resetsMidResponse() + " inside a response");
        assertEquals(1200, result.total(), result.summary());
    }
}
