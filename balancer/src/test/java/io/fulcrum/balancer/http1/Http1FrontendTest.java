package io.fulcrum.balancer.http1;

import static io.fulcrum.testing.WireText.bytes;
import static io.fulcrum.testing.WireText.outbound;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.exchange.EmbeddedBackendPool;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.fulcrum.balancer.http1.codec.Http1Codec;
import io.fulcrum.testing.LocalProxy;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The client side of a connection without sockets: the real frontend pipeline on an
 * {@link EmbeddedChannel}, backends from an {@link EmbeddedBackendPool}. Pipelined requests are
 * answered in order, one at a time; a refused request closes the connection after its answer; a
 * request after {@code Connection: close} is never forwarded.
 */
class Http1FrontendTest {
    private final EmbeddedBackendPool pool = new EmbeddedBackendPool();
    private final ProxyContext proxy = LocalProxy.context(pool, LocalProxy.settings(1000), 2);
    /** The handler under test, kept since a closed channel's pipeline no longer holds it. */
    private Http1Frontend frontend;
    private final EmbeddedChannel client = clientChannel();

    private EmbeddedChannel clientChannel() {
        ChannelHandler[] codec = Http1Codec.server(8192, 8192, 65536);
        frontend = new Http1Frontend(proxy);
        return new EmbeddedChannel(codec[0], codec[1], frontend);
    }

    @AfterEach
    void release() {
        client.finishAndReleaseAll();
        for (EmbeddedChannel ch : pool.opened) {
            ch.finishAndReleaseAll();
        }
    }

    private void send(String raw) {
        client.writeInbound(bytes(raw));
        client.runPendingTasks();
    }

    private static void respond(EmbeddedChannel backend, String raw) {
        backend.writeInbound(bytes(raw));
    }

    @Test
    void pipelinedRequestsAreForwardedOneAtATimeAndAnsweredInOrder() {
        send("GET /a HTTP/1.1|Host: x||GET /b HTTP/1.1|Host: x||");

        assertEquals(1, pool.opened.size(), "the second request waits for the first response");
        EmbeddedChannel first = pool.last();
        assertTrue(outbound(first).startsWith("GET /a HTTP/1.1"));

        respond(first, "HTTP/1.1 200 OK|Content-Length: 1||A");
        client.runPendingTasks();
        assertEquals(2, pool.opened.size(), "the next request is served once the first is answered");
        EmbeddedChannel second = pool.last();
        assertTrue(outbound(second).startsWith("GET /b HTTP/1.1"));
        respond(second, "HTTP/1.1 200 OK|Content-Length: 1||B");
        client.runPendingTasks();

        String out = outbound(client);
        int a = out.indexOf("\r\n\r\nA");
        int b = out.indexOf("\r\n\r\nB");
        assertTrue(a > 0 && b > a, "responses in request order: " + out);
        assertTrue(client.isOpen());
    }

    @Test
    void aRequestAfterConnectionCloseIsNeverForwarded() {
        send("GET /a HTTP/1.1|Host: x|Connection: close||GET /b HTTP/1.1|Host: x||");
        respond(pool.last(), "HTTP/1.1 200 OK|Content-Length: 1||A");
        client.runPendingTasks();

        assertEquals(1, pool.opened.size(), "RFC 9112 section 9.6: nothing after close is processed");
        String out = outbound(client);
        assertTrue(out.contains("Connection: close") || out.contains("connection: close"), out);
        assertFalse(client.isOpen());
    }

    @Test
    void aRefusedRequestIsAnsweredAndTheConnectionClosed() {
        send("POST /big HTTP/1.1|Host: x|Content-Length: 5000||");

        assertEquals(0, pool.opened.size(), "nothing reaches a backend");
        String out = outbound(client);
        assertTrue(out.startsWith("HTTP/1.1 413 "), out);
        assertTrue(out.toLowerCase().contains("connection: close"), out);
        assertFalse(client.isOpen(), "framing is in doubt once a body is refused");
    }

    /**
     * Where the connection is after the client sent {@code request} and, when one is given, the
     * backend answered {@code response}.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = ';', value = {
        "waiting for its response; GET /a HTTP/1.1|Host: x||; ; EXCHANGING",
        "answered; GET /a HTTP/1.1|Host: x||; HTTP/1.1 200 OK|Content-Length: 1||A; READING_HEAD",
        "its body still coming; POST /a HTTP/1.1|Host: x|Content-Length: 3||a; ; EXCHANGING",
        "answered before its body came; POST /a HTTP/1.1|Host: x|Content-Length: 3||a;"
                + " HTTP/1.1 200 OK|Content-Length: 1||A; CLOSED",
        "answered after Connection: close; GET /a HTTP/1.1|Host: x|Connection: close||;"
                + " HTTP/1.1 200 OK|Content-Length: 1||A; CLOSED",
        "refused; POST /big HTTP/1.1|Host: x|Content-Length: 5000||; ; CLOSED",
        "switched to a tunnel; GET /ws HTTP/1.1|Host: x|Connection: Upgrade|Upgrade: websocket||;"
                + " HTTP/1.1 101 Switching Protocols|Connection: Upgrade|Upgrade: websocket||; TUNNELING",
    })
    void theConnectionIsInTheStateItsExchangeLeftItIn(String what, String request, String response,
            FrontendConnection.State expected) {
        send(request);
        if (response != null) {
            respond(pool.last(), response);
            client.runPendingTasks();
        }

        assertEquals(expected, frontend.state());
        assertEquals(expected != FrontendConnection.State.CLOSED, client.isOpen());
        outbound(client);
    }

    @Test
    void aBackendThatFailsBeforeAnsweringGetsTheRequestRetriedElsewhere() {
        send("GET /a HTTP/1.1|Host: x||");
        pool.last().close();
        respond(pool.last(), "HTTP/1.1 200 OK|Content-Length: 1||A");
        client.runPendingTasks();

        assertEquals(List.of("b1", "b2"), pool.backends);
        assertTrue(outbound(client).startsWith("HTTP/1.1 200 OK"));
    }
}
