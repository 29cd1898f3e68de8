package io.fulcrum.balancer.http1;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.InputStream;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Flow control from a slow client back to a fast backend: while the client reads nothing, the
 * backend can only push what fits in the socket buffers and the balancer's write watermarks,
 * never the whole response; once the client reads, the rest follows intact.
 */
class BackpressureTest {
    private static final long RESPONSE = 1024L * 1024 * 1024;
    /** Far above socket buffers plus watermarks, far below the response. */
    private static final long BOUND = 64L * 1024 * 1024;
    private ScriptedBackend backend;
    private Balancer balancer;

    @BeforeEach
    void start() throws Exception {
        backend = ScriptedBackend.echo("fast");
        balancer = new Balancer(BalancerYaml.forProxy().backend(backend.port()).config(), 1).start();
    }

    @AfterEach
    void stop() throws Exception {
        balancer.stop(Duration.ZERO);
        backend.close();
    }

    @Test
    void aClientThatDoesNotReadPausesTheBackend() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000, 64 * 1024)) {
            c.send("GET /big?bytes=" + RESPONSE + " HTTP/1.1\r\nHost: a\r\n\r\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> backend.streamedBytes() > 0);
            // The client reads nothing; the backend must stall well short of the whole response.
            await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5))
                    .until(() -> backend.streamedBytes() < BOUND);

            // Now read a good part of it: the stream resumes.
            InputStream in = c.input();
            byte[] buf = new byte[64 * 1024];
            long read = 0;
            while (read < 2 * BOUND) {
                int n = in.read(buf);
                assertTrue(n > 0);
                read += n;
            }
            assertTrue(backend.streamedBytes() > BOUND, "the backend resumed: " + backend.streamedBytes());
        }
        // Walking away mid-response cancels the backend request.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertEquals(1, backend.closedConnections()));
    }
}
