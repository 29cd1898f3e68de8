package io.fulcrum.balancer.edge;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code limits.connections-per-client} over real sockets: the (N+1)th connection from one
 * address gets a 503 with Retry-After and is closed, other addresses are not affected, a closed
 * connection frees its place, and behind a trusted edge with the PROXY protocol the cap keys on
 * the address the PROXY header gives.
 */
class ConnectionsPerClientTest {
    private static final int CAP = 3;
    private static final String GET = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

    @RegisterExtension
    final Fixtures fx = new Fixtures();
    private Balancer balancer;
    /** The connections {@link #served} keeps open, in the order they opened. */
    private final List<RawHttpClient> clients = new ArrayList<>();

    /** Starts an echoing backend and a balancer in front of it, with these {@code trusted-edges}. */
    private void start(String edges) throws Exception {
        ScriptedBackend backend = fx.backend("only").echo(true);
        balancer = fx.balancer(BalancerYaml.forProxy().backend(backend.port())
                .set("limits.connections-per-client", CAP).merge(edges));
    }

    /** A connection from {@code from} that got a 200 for its first request, kept open. */
    private RawHttpClient served(String from, String proxyHeader) throws IOException {
        RawHttpClient c = fx.closeAfter(RawHttpClient.connectFrom(from, balancer.port(), 5000));
        clients.add(c);
        assertEquals(200, c.send(proxyHeader + GET).readResponse().status());
        return c;
    }

    /** Asserts that a connection from {@code from} is refused with 503, Retry-After and a close. */
    private void assertRefused(String from, String proxyHeader) throws IOException {
        try (RawHttpClient c = RawHttpClient.connectFrom(from, balancer.port(), 5000)) {
            c.send(proxyHeader);
            RawHttpClient.Response r = c.readResponse();
            assertEquals(503, r.status());
            assertEquals("1", r.header("retry-after"));
            assertEquals("close", r.header("connection"));
            assertTrue(r.bodyText().contains("too many connections"), r.bodyText());
            assertTrue(c.isClosedByPeer());
        }
    }

    @Test
    void refusesTheConnectionPastTheCapAndTakesANewOneOnceOneCloses() throws Exception {
        start("");
        for (int i = 0; i < CAP; i++) {
            served("127.0.0.1", "");
        }
        assertRefused("127.0.0.1", "");
        // Another address has places of its own.
        served("127.0.0.2", "");
        assertEquals(1, balancer.proxy().perClientRefused());
        assertTrue(balancer.meterRegistry().scrape().contains("fulcrum_connections_per_client_refused_total 1.0"));

        clients.remove(0).close();
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            try (RawHttpClient c = RawHttpClient.connectFrom("127.0.0.1", balancer.port(), 5000)) {
                assertEquals(200, c.get("/").status());
            }
        });
        for (RawHttpClient c : clients) {
            c.close();
        }
        clients.clear();
        // Nothing stays behind for an address with no connection.
        await().atMost(Duration.ofSeconds(5)).until(() -> balancer.proxy().perClientAddresses() == 0);
    }

    @Test
    void behindATrustedEdgeTheCapKeysOnTheProxyHeadersSource() throws Exception {
        start("trusted-edges: { networks: [127.0.0.1/32], proxy-protocol: v1 }");
        String fromA = "PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n";
        String fromB = "PROXY TCP4 203.0.113.8 127.0.0.1 51000 80\r\n";
        for (int i = 0; i < CAP; i++) {
            served("127.0.0.1", fromA);
        }
        assertRefused("127.0.0.1", fromA);
        // The same edge speaks for another client, and for itself (no header): neither is refused.
        served("127.0.0.1", fromB);
        served("127.0.0.1", "");
        // A peer that is not a trusted edge is capped on its own address.
        for (int i = 0; i < CAP; i++) {
            served("127.0.0.2", "");
        }
        assertRefused("127.0.0.2", "");
        assertEquals(2, balancer.proxy().perClientRefused());
    }
}
