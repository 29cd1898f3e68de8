package io.fulcrum.balancer.exchange;

import static io.fulcrum.balancer.exchange.EmbeddedBackendPool.respond;
import static io.fulcrum.balancer.exchange.EmbeddedBackendPool.sent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.metrics.RequestRecord;
import io.fulcrum.testing.LocalProxy;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One upstream try without its exchange: the listener records what the try reports, each backend
 * connection is an {@link EmbeddedChannel} with the real backend codec and handler. Covers what a
 * try owns: its connection (bound to it, given back or closed), the request write, the response
 * head as one try judges it, its per-try deadline, and its one outcome.
 */
class UpstreamTryTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private long now = 1_000 * SECOND;
    private final NanoClock clock = () -> now;
    private final EmbeddedBackendPool connections = new EmbeddedBackendPool();
    private final EmbeddedChannel loop = new EmbeddedChannel();
    private final List<Outcome> outcomes = new ArrayList<>();
    private final RecordingListener listener = new RecordingListener();
    private final BackendRegistry registry = LocalProxy.registry(clock, LocalProxy.backends(1));
    private final ProxySettings settings = LocalProxy.settings(1_000_000);
    private final ProxyContext proxy = LocalProxy.context(registry, connections, settings,
            (backend, outcome) -> outcomes.add(outcome), clock);

    @AfterEach
    void release() {
        listener.releaseAll();
        for (EmbeddedChannel ch : connections.opened) {
            assertFalse(ch.finishAndReleaseAll(), "nothing left unread on " + ch);
        }
        assertFalse(loop.finishAndReleaseAll());
    }

    private Backend backend() {
        return registry.current().byId("b1");
    }

    /** A try at b1 with its slot taken, as the exchange starts one. */
    private UpstreamTry newTry() {
        assertTrue(backend().tryAcquire());
        return new UpstreamTry(backend(), proxy.firstPool(), proxy, listener, now);
    }

    private EventLoop eventLoop() {
        return loop.eventLoop();
    }

    private static HttpRequest get() {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x");
        r.headers().set(HttpHeaderNames.HOST, "example");
        return r;
    }

    /** Connects {@code t} on a pooled connection and writes a bodyless GET, as the exchange does. */
    private EmbeddedChannel connectAndSend(UpstreamTry t) {
        assertFalse(t.connect(eventLoop(), false), "a pooled connection is had at once");
        assertEquals(List.of("connected"), listener.events);
        ReplayBuffer body = new ReplayBuffer(1024);
        body.add(LastHttpContent.EMPTY_LAST_CONTENT);
        t.write(get(), body, true);
        assertTrue(t.sent(now));
        EmbeddedChannel ch = connections.last();
        assertTrue(sent(ch).startsWith("GET /x HTTP/1.1\r\n"));
        body.release();
        listener.events.clear();
        return ch;
    }

    @Test
    void aFinalHeadAndItsBodyReachTheListenerAndTheConnectionGoesBackToThePool() {
        UpstreamTry t = newTry();
        EmbeddedChannel ch = connectAndSend(t);
        assertTrue(t.reached());
        now += SECOND;

        respond(ch, "HTTP/1.1 200 OK|Content-Length: 2||ok");

        assertEquals(List.of("head 200", "body ok", "last"), listener.events);
        assertEquals(200, t.status());
        assertEquals(now, t.firstByteNanos());
        RequestRecord.Try logged = t.end(Outcome.SUCCESS, now);
        t.release(true);
        assertEquals(List.of(ch), connections.released, "a keep-alive response gives the connection back");
        assertEquals(new RequestRecord.Try("b1", "success", 0, SECOND, 200), logged);
        assertEquals(List.of(Outcome.SUCCESS), outcomes);
        assertEquals(0, backend().state().inFlight(), "the slot is free");
    }

    @Test
    void aTryEndsOnceWhateverAsksAgain() {
        UpstreamTry t = newTry();
        connectAndSend(t).close();
        assertEquals(List.of("failed reset"), listener.events);
        assertNull(t.end(Outcome.CANCELLED, now), "the connection's loss ended it already");
        assertEquals(List.of(Outcome.RESET), outcomes, "one outcome, reported once");
        assertEquals(0, backend().state().inFlight());
    }

    @Test
    void aConnectionClosedUnderTheTryIsLetGoAndReportedAsAReset() {
        listener.endOnFailure = true;
        UpstreamTry t = newTry();
        EmbeddedChannel ch = connectAndSend(t);
        ch.close();
        assertEquals(List.of("failed reset"), listener.events);
        assertFalse(t.connected(), "the try let the connection go");
        assertFalse(t.writable());
    }

    @Test
    void aRefusedConnectionFailsTheTryWithoutAConnectTime() {
        listener.endOnFailure = true;
        connections.refuse.add(9001);
        UpstreamTry t = newTry();
        assertFalse(t.connect(eventLoop(), false));
        assertEquals(List.of("failed connect_failure"), listener.events);
        assertFalse(t.reached(), "no byte reached the backend, so a retry is free");
        assertEquals(-1, listener.lastLogged.connectNanos());
        assertEquals(List.of(Outcome.CONNECT_FAILURE), outcomes);
    }

    @Test
    void aTryGivenUpWhileConnectingLeavesTheConnectionToThePoolAndHearsNothingMore() {
        connections.hold.add(9001);
        UpstreamTry t = newTry();
        assertTrue(t.connect(eventLoop(), true), "a new connection is still being made");
        assertEquals(List.of("b1"), connections.fresh);
        t.end(Outcome.CANCELLED, now);
        assertTrue(connections.pending.get(0).isCancelled(), "the pool keeps the connection if it is made");
        assertEquals(List.of(), listener.events);
        assertEquals(List.of(Outcome.CANCELLED), outcomes);
    }

    @Test
    void aNewConnectionIsTimedFromTheTrysStart() {
        connections.hold.add(9001);
        UpstreamTry t = newTry();
        long start = now;
        assertTrue(t.connect(eventLoop(), false));
        connections.hold.clear();
        now += SECOND / 4;
        connections.pending.get(0).setSuccess(connections.acquire(backend(), eventLoop()).getNow());
        assertEquals(List.of("connected"), listener.events);
        assertTrue(t.connected());
        RequestRecord.Try logged = t.end(Outcome.CANCELLED, now);
        assertEquals(now - start, logged.connectNanos());
        t.close();
        assertFalse(connections.last().isOpen());
    }

    @Test
    void anInterimResponseIsReportedAndItsEndSwallowedBeforeTheFinalOne() {
        UpstreamTry t = newTry();
        EmbeddedChannel ch = connectAndSend(t);

        respond(ch, "HTTP/1.1 103 Early Hints|Link: </a.css>||HTTP/1.1 204 No Content||");

        assertEquals(List.of("interim 103", "head 204", "last"), listener.events);
        assertEquals(204, t.status());
        t.end(Outcome.SUCCESS, now);
        t.release(true);
    }

    @Test
    void aStatusOutOfRangeIsAMalformedAnswerWithNoStatusTaken() {
        listener.endOnFailure = true;
        UpstreamTry t = newTry();
        EmbeddedChannel ch = connectAndSend(t);

        respond(ch, "HTTP/1.1 600 Weird|Content-Length: 0||");

        assertEquals("failed malformed: status code 600 out of range", listener.events.get(0));
        assertEquals(0, listener.lastLogged.status());
        assertEquals(-1, listener.lastLogged.firstByteNanos());
    }

    @Test
    void aResponseThatAsksToCloseIsNotPooledEvenWhenTheExchangeWouldReuseIt() {
        UpstreamTry t = newTry();
        EmbeddedChannel ch = connectAndSend(t);
        respond(ch, "HTTP/1.1 200 OK|Connection: close|Content-Length: 0||");
        t.end(Outcome.SUCCESS, now);
        t.release(true);
        assertEquals(List.of(), connections.released);
        assertFalse(ch.isOpen());
    }

    @Test
    void thePerTryDeadlineRunsFromTheRequestSentAndEndsWithTheHead() {
        UpstreamTry t = newTry();
        EmbeddedChannel ch = connectAndSend(t);
        long sentAt = now;
        assertFalse(t.sent(now + SECOND), "sent once");
        assertEquals(0, t.deadline(), "no per-try timeout unless started");
        assertEquals(sentAt + 2 * SECOND, t.startPerTryTimeout(2 * SECOND));
        assertEquals(sentAt + 2 * SECOND, t.deadline());
        respond(ch, "HTTP/1.1 204 No Content||");
        assertEquals(0, t.deadline(), "the head came: the per-try timeout is over");
        t.end(Outcome.SUCCESS, now);
        t.release(true);
    }

    /** Records what a try reports; ends the try on a failure when asked, as the exchange would. */
    private final class RecordingListener implements UpstreamTry.Listener {
        final List<String> events = new ArrayList<>();
        final List<HttpContent> held = new ArrayList<>();
        boolean endOnFailure;
        RequestRecord.Try lastLogged;

        void releaseAll() {
            held.forEach(HttpContent::release);
        }

        @Override
        public void onConnected(UpstreamTry upstream, long nowNanos) {
            events.add("connected");
        }

        @Override
        public void onFailed(UpstreamTry upstream, Outcome outcome, String detail) {
            events.add("failed " + outcome.label() + (detail == null ? "" : ": " + detail));
            if (endOnFailure || outcome == Outcome.RESET) {
                upstream.close();
                lastLogged = upstream.end(outcome, now);
            }
        }

        @Override
        public void onInterim(UpstreamTry upstream, HttpResponse interim) {
            events.add("interim " + interim.status().code());
        }

        @Override
        public void onHead(UpstreamTry upstream, HttpResponse head) {
            events.add("head " + head.status().code());
        }

        @Override
        public void onBody(UpstreamTry upstream, HttpContent part) {
            if (part.content().isReadable()) {
                events.add("body " + part.content().toString(StandardCharsets.ISO_8859_1));
            }
            if (part instanceof LastHttpContent) {
                events.add("last");
            }
            part.release();
        }

        @Override
        public void onReadComplete(UpstreamTry upstream) {
        }

        @Override
        public void onWritable(UpstreamTry upstream) {
        }

        @Override
        public void onIdle(UpstreamTry upstream) {
        }

        @Override
        public void onTunnelData(UpstreamTry upstream, ByteBuf data) {
            data.release();
        }

        @Override
        public void onTunnelInputShutdown(UpstreamTry upstream) {
        }
    }
}
