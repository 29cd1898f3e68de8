package io.fulcrum.balancer.edge;

import static io.fulcrum.testing.RawHttp2Client.CONTINUATION;
import static io.fulcrum.testing.RawHttp2Client.END_HEADERS;
import static io.fulcrum.testing.RawHttp2Client.END_STREAM;
import static io.fulcrum.testing.RawHttp2Client.HEADERS;
import static io.fulcrum.testing.RawHttp2Client.PING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.RawHttp2Client;
import io.fulcrum.testing.RawHttpClient;
import io.fulcrum.testing.ScriptedBackend;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code timeouts.request-head}: a request head must be complete within a fixed time of its first
 * byte (a connection's first: of its accept), however the client spaces its bytes, while
 * client-idle, which every byte restarts, is far longer. Between requests on a kept-alive
 * connection only client-idle applies. HTTP/2 likewise for header blocks.
 *
 * <p>The slow clients write on a timer of their own, a little at a time, until the balancer
 * closes the connection; with client-idle at 30 s they never let it run out.
 */
class RequestHeadDeadlineTest {
    private static final Duration REQUEST_HEAD = Duration.ofMillis(500);
    private static final int READ_TIMEOUT_MS = 8000;

    private ScriptedBackend backend;
    private Balancer balancer;
    private final ScheduledExecutorService trickler = Executors.newSingleThreadScheduledExecutor();

    @BeforeEach
    void start() throws Exception {
        backend = ScriptedBackend.echo("only");
        balancer = new Balancer(BalancerYaml.forProxy().backend(backend.port())
                .set("timeouts.client-idle", Duration.ofSeconds(30))
                .set("timeouts.request-head", REQUEST_HEAD).config(), 1).start();
    }

    @AfterEach
    void stop() throws Exception {
        trickler.shutdownNow();
        balancer.stop(Duration.ZERO);
        backend.close();
    }

    /** Writes {@code chunk} every 100 ms until writing fails (the balancer closed) or the test ends. */
    private void trickle(OutputStream out, byte[] chunk) {
        trickler.scheduleAtFixedRate(() -> {
            try {
                out.write(chunk);
                out.flush();
            } catch (IOException e) {
                throw new IllegalStateException("closed", e);
            }
        }, 0, 100, TimeUnit.MILLISECONDS);
    }

    @Test
    void aHeadTrickledOneLineAtATimeGets408AndTheConnectionCloses() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), READ_TIMEOUT_MS)) {
            c.send("GET / HTTP/1.1\r\nHost: a\r\n");
            trickle(c.output(), "X-Slow: 1\r\n".getBytes(StandardCharsets.US_ASCII));
            RawHttpClient.Response r = c.readResponse();
            assertEquals(408, r.status());
            assertEquals("close", r.header("connection"));
            assertTrue(c.isClosedByPeer());
        }
        assertEquals(1, balancer.proxy().headTimeouts());
        assertTrue(balancer.meterRegistry().scrape().contains("fulcrum_client_head_timeouts_total 1.0"));
    }

    @Test
    void theNextHeadOnAKeptAliveConnectionIsDueFromItsFirstByte() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), READ_TIMEOUT_MS)) {
            assertEquals(200, c.get("/first").status());
            c.send("GET /second HTTP/1.1\r\n");
            trickle(c.output(), "X-Slow: 1\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(408, c.readResponse().status());
            assertTrue(c.isClosedByPeer());
        }
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAtRequestHeadWithoutAnAnswer() throws Exception {
        try (RawHttpClient c = RawHttpClient.connect(balancer.port(), READ_TIMEOUT_MS)) {
            assertEquals(-1, c.input().read(), "closed without a response");
        }
    }

    @Test
    void aKeptAliveConnectionIsNotCutBetweenRequests() throws Exception {
        try (RawHttpClient kept = RawHttpClient.connect(balancer.port(), READ_TIMEOUT_MS)) {
            assertEquals(200, kept.get("/first").status());
            // A connection accepted after that response sends half a head; once it has its 408,
            // more than request-head has passed since the kept connection went quiet.
            try (RawHttpClient late = RawHttpClient.connect(balancer.port(), READ_TIMEOUT_MS)) {
                late.send("GET / HTTP/1.1\r\n");
                assertEquals(408, late.readResponse().status());
            }
            assertEquals(200, kept.get("/second").status());
        }
    }

    @Test
    void anHttp2ConnectionWithoutHeadersGetsGoAwayAndCloses() throws Exception {
        try (RawHttp2Client c = RawHttp2Client.open(balancer.port(), READ_TIMEOUT_MS)) {
            // Pings keep the connection busy, far under client-idle.
            trickle(c.output(), RawHttp2Client.frameBytes(PING, 0, 0, new byte[8]));
            RawHttp2Client.Outcome o = c.awaitError(0);
            assertNotNull(o.goAway(), o.toString());
            assertEquals(RawHttp2Client.NO_ERROR, o.goAway().errorCode());
            assertEquals(0, o.goAway().lastStreamId());
            assertTrue(c.isClosedByPeer());
        }
    }

    @Test
    void aSlowContinuationSequenceGetsGoAwayAndCloses() throws Exception {
        try (RawHttp2Client c = RawHttp2Client.open(balancer.port(), READ_TIMEOUT_MS)) {
            assertEquals(200, status(c, 1));
            c.frame(HEADERS, END_STREAM, 3, RawHttp2Client.requestBlock("GET", "/slow"));
            // A CONTINUATION frame that announces 200 bytes and gets them one at a time: the block
            // would end after 20 s. (Many small CONTINUATION frames are a flood, refused by count.)
            byte[] continuation = RawHttp2Client.frameBytes(CONTINUATION, END_HEADERS, 3, new byte[200]);
            c.send(Arrays.copyOf(continuation, 9));
            trickle(c.output(), new byte[1]);
            RawHttp2Client.Outcome o = c.awaitError(3);
            assertNotNull(o.goAway(), o.toString());
            assertEquals(RawHttp2Client.ENHANCE_YOUR_CALM, o.goAway().errorCode());
            assertEquals(1, o.goAway().lastStreamId(), "stream 3 was not processed");
            assertTrue(c.isClosedByPeer());
        }
    }

    @Test
    void anHttp2ConnectionIsNotCutBetweenStreams() throws Exception {
        try (RawHttp2Client kept = RawHttp2Client.open(balancer.port(), READ_TIMEOUT_MS)) {
            assertEquals(200, status(kept, 1));
            try (RawHttpClient late = RawHttpClient.connect(balancer.port(), READ_TIMEOUT_MS)) {
                late.send("GET / HTTP/1.1\r\n");
                assertEquals(408, late.readResponse().status());
            }
            assertEquals(200, status(kept, 3));
        }
    }

    /** Sends a GET on {@code stream} and reads its response's status. */
    private static int status(RawHttp2Client c, int stream) throws IOException {
        return c.get(stream, "/").status(stream);
    }
}
