package io.fulcrum.balancer.http1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawBackend;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Peers that stop half-way, and pipelining at its edges: a backend that stalls in the middle of a
 * response body, a client that stalls in the middle of its request body, requests pipelined
 * after {@code Connection: close}, and a deep pipeline in one write.
 */
class StalledPeersAndPipeliningTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures(1);
    private ScriptedBackend backend;

    /** Starts the echoing backend {@code only} and a balancer in front of it from {@code yaml}. */
    private Balancer overEchoBackend(BalancerYaml yaml) throws Exception {
        backend = fx.backend("only").echo(true);
        return fx.balancer(yaml.backend(backend.port()));
    }

    @Test
    void aBackendThatStallsMidBodyEndsTheResponseWithAClose() throws Exception {
        // Announces ten bytes, sends three, then keeps the connection open and silent.
        RawBackend rawBackend = fx.closeAfter(
                RawBackend.start("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false));
        Balancer balancer = fx.balancer(BalancerYaml.forProxy().backend(rawBackend.port())
                .set("timeouts.response", Duration.ofSeconds(30))
                .set("timeouts.backend-idle", Duration.ofMillis(300)));
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            c.send("GET /stall HTTP/1.1\r\nHost: a\r\n\r\n");
            assertTrue(c.isClosedByPeer(), "the truncated response ends with a close, not a hang");
        }
        assertEquals(0, balancer.registry().current().byId("b1").state().inFlight(),
                "the in-flight slot is given back");
    }

    @Test
    void aClientThatStallsMidBodyGets408AndTheBackendSlotIsFreed() throws Exception {
        Balancer balancer = overEchoBackend(
                BalancerYaml.forProxy().set("timeouts.client-idle", Duration.ofMillis(300)));
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
            RawHttpClient.Response r = c.readResponse();
            assertEquals(408, r.status(), r.bodyText());
            assertTrue(c.isClosedByPeer());
        }
        assertEquals(0, balancer.registry().current().byId("b1").state().inFlight());
    }

    @Test
    void aClientThatSendsItsWholeBodyBeforeReadingStillGetsThe413() throws Exception {
        Balancer balancer = overEchoBackend(BalancerYaml.forProxy().set("limits.max-body-bytes", 64 * 1024));
        // Many simple clients write the whole request before reading anything. Closing at once
        // after the 413 would leave their body unread, reset the connection and break their
        // write; the balancer reads and drops it for a while instead (lingering close).
        byte[] body = new byte[16 * 1024 * 1024];
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            c.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length + "\r\n\r\n");
            c.output().write(body);
            c.output().flush();
            RawHttpClient.Response r = c.readResponse();
            assertEquals(413, r.status(), r.bodyText());
            assertTrue(c.isClosedByPeer());
        }
        assertEquals(0, backend.requests(), "nothing of a refused request reaches the backend");
    }

    @Test
    void requestsPipelinedAfterConnectionCloseAreNotForwarded() throws Exception {
        Balancer balancer = overEchoBackend(BalancerYaml.forProxy());
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            c.send("GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                    + "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi");
            RawHttpClient.Response r = c.readResponse();
            assertEquals(200, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(c.isClosedByPeer());
        }
        assertEquals(1, backend.requests(), "only the request before the close reached the backend");
        assertEquals("/a", backend.received().get(0).uri());
    }

    @Test
    void seventyPipelinedRequestsInOneWriteAreAllAnsweredInOrder() throws Exception {
        Balancer balancer = overEchoBackend(BalancerYaml.forProxy());
        StringBuilder pipeline = new StringBuilder();
        for (int i = 0; i < 70; i++) {
            pipeline.append("GET /p").append(i).append(" HTTP/1.1\r\nHost: a\r\n\r\n");
        }
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), 10_000)) {
            c.send(pipeline.toString());
            for (int i = 0; i < 70; i++) {
                RawHttpClient.Response r = c.readResponse();
                assertEquals(200, r.status());
                assertTrue(r.bodyText().contains("\"uri\":\"/p" + i + "\""), r.bodyText());
            }
        }
        assertEquals(70, backend.requests());
    }
}
