package io.fulcrum.balancer.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.connections.Transport;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.RawHttpClient.Response;
import io.fulcrum.testing.ScriptedBackend;
import io.fulcrum.testing.ScriptedBackend.Fault;
import io.fulcrum.testing.Transports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * A backend that sends a response head and half the body and then resets the connection: on
 * every transport the client sees that response end, cut, as soon as the balancer hears of the
 * reset, not when its own read timeout passes. The reset reaches the balancer right behind the
 * last bytes, which on io_uring went unseen while multishot polls were on (see
 * {@code Transport.IO_URING_MULTISHOT_POLL_PROPERTY}).
 */
class ResetAfterPartialBodyTest {
    private static final int BODY_BYTES = 16 * 1024;
    /** How soon each response must end; the client's own read timeout ({@link Fixtures#WAIT}) is longer. */
    private static final Duration ENDS_WITHIN = Duration.ofSeconds(5);

    static final List<String> transports = Transports.ALL;

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @ParameterizedTest(name = "{0}")
    @FieldSource("transports")
    void theClientSeesTheCutResponseEndAtOnce(String transport) throws Exception {
        Transports.assumeAvailable(transport);
        String pinned = System.getProperty(Transport.PROPERTY);
        assumeTrue(pinned == null || pinned.equals(transport),
                "-D" + Transport.PROPERTY + "=" + pinned + " runs every balancer here on " + pinned);
        // Of every four requests: answered, cut after half the body, reset before any byte, cut.
        ScriptedBackend resetting = fx.backend("b1").bodyBytes(BODY_BYTES).fault(Fault.RESET_HALF);
        Balancer balancer = fx.balancer(BalancerYaml.forProxy().backend("b1", resetting.port())
                .merge("transport: " + transport + "\n"));
        assertEquals(transport, balancer.transport().name());

        int cut = 0;
        for (int i = 0; i < 16; i++) {
            String path = "/data/" + i;
            try (RawHttpClient client = RawHttpClient.connect(balancer.port(), (int) Fixtures.WAIT.toMillis())) {
                CompletableFuture<Response> reading = CompletableFuture.supplyAsync(() -> {
                    try {
                        return client.getAllowingCut(path);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                await("the response to " + path + " on " + transport + " ends").atMost(ENDS_WITHIN)
                        .until(reading::isDone);
                Response r = reading.join();
                if (r.status() == 200 && !r.complete()) {
                    cut++;
                } else if (r.status() == 200) {
                    assertArrayEquals(resetting.expectedBody(), r.body(), "the complete-looking body of " + path);
                } else {
                    assertTrue(r.status() >= 500, "a reset before the response answers an error: " + r.statusLine());
                }
            }
        }
        assertEquals(8, resetting.resetsMidResponse(), "resets after the head");
        assertEquals(resetting.resetsMidResponse(), cut, "responses seen cut");
    }
}
