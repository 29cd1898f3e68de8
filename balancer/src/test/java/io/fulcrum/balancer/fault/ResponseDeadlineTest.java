package io.fulcrum.balancer.fault;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import io.fulcrum.testing.ScriptedBackend.Fault;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 8 finding: {@code timeouts.response} is the whole deadline of a request, shared by its
 * tries. With a 1 s response timeout, four backends that never answer and three retries allowed,
 * the client has its 504 well before four tries of 1 s each could have ended: its read gives up
 * after 2.5 s, which a deadline kept per try (4 s) would overrun, and a shared deadline (1 s)
 * meets with room to spare on a loaded machine.
 */
class ResponseDeadlineTest {
    private static final int CLIENT_PATIENCE_MILLIS = 2500;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void theClientGetsIts504WithinTheResponseTimeoutNotOnePerTry() throws Exception {
        BalancerYaml yaml = BalancerYaml.create().set("timeouts.response", "1s").set("retry.attempts", "3")
                .set("retry.budget-percent", "100");
        for (int i = 1; i <= 4; i++) {
            ScriptedBackend b = fx.backend("b" + i).fault(Fault.HANG);
            yaml.backend("b" + i, b.port());
        }
        Balancer balancer = fx.balancer(yaml);

        try (RawHttpClient client = RawHttpClient.connect(balancer.port(), CLIENT_PATIENCE_MILLIS)) {
            client.send("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            RawHttpClient.Response response;
            try {
                response = client.readResponse();
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no answer within " + CLIENT_PATIENCE_MILLIS
                        + " ms: the 1 s response timeout was not shared by the tries", e);
            }
            assertEquals(504, response.status(), response.statusLine() + " " + response.bodyText());
        }
    }
}
