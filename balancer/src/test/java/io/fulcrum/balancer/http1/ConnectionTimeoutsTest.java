package io.fulcrum.balancer.http1;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Idle timeouts on both sides: an idle client connection is closed after {@code client-idle}, an
 * idle pooled backend connection after {@code backend-idle}, but a connection with a request in
 * progress is not cut by the client-idle timer.
 */
class ConnectionTimeoutsTest {
    private ScriptedBackend backend;
    private Balancer balancer;

    @BeforeEach
    void start() throws Exception {
        backend = ScriptedBackend.echo("only");
        balancer = new Balancer(BalancerYaml.forProxy().backend(backend.port())
                .set("timeouts.client-idle", Duration.ofMillis(400)).set("timeouts.backend-idle", Duration.ofMillis(400))
                .set("timeouts.response", Duration.ofSeconds(10)).config(), 1).start();
    }

    @AfterEach
    void stop() throws Exception {
        balancer.stop(Duration.ZERO);
        backend.close();
    }

    @Test
    void closesAnIdleClientConnection() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            assertEquals(200, c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());
            assertTrue(c.isClosedByPeer(), "an idle client connection must be closed");
        }
    }

    @Test
    void closesAnIdlePooledBackendConnection() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            assertEquals(200, c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status());
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertEquals(1, backend.closedConnections());
            assertEquals(0, balancer.proxy().pool().openConnections());
        });
    }

    @Test
    void doesNotCutARequestInProgressAtClientIdle() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            // The backend answers after several client-idle periods; the response must still arrive.
            RawHttpClient.Response r = c.send("GET /slow?delayMs=1500 HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
            assertEquals(200, r.status());
        }
    }
}
