package io.fulcrum.balancer.exchange;

import static io.fulcrum.balancer.exchange.EmbeddedBackendPool.respond;
import static io.fulcrum.balancer.exchange.EmbeddedBackendPool.sent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.balancing.BackendRegistry;
import io.fulcrum.balancer.balancing.NanoClock;
import io.fulcrum.balancer.balancing.Outcome;
import io.fulcrum.balancer.config.HeadersConfig;
import io.fulcrum.balancer.edge.DeadlineTimer;
import io.fulcrum.balancer.edge.HeaderRules;
import io.fulcrum.testing.LocalProxy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The exchange's state machine without sockets: the client is a recording {@link ClientSide}, each
 * backend connection an {@link EmbeddedChannel} with the real backend codec and handler, the clock
 * a field. Covers streaming, 1xx, retries after a reset, a refused connect and a malformed status,
 * the per-try and overall deadlines, a response cut mid-body and backpressure toward the backend.
 */
class ExchangeTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    private long now = 1_000 * SECOND;
    private final NanoClock clock = () -> now;
    private final EmbeddedBackendPool pool = new EmbeddedBackendPool();
    private final RecordingClient client = new RecordingClient(clock);
    private final List<Outcome> outcomes = new ArrayList<>();
    private final BackendRegistry registry = LocalProxy.registry(clock, LocalProxy.backends(3));

    @AfterEach
    void release() {
        client.releaseAll();
        otherClients.forEach(RecordingClient::releaseAll);
        for (EmbeddedChannel ch : pool.opened) {
            ch.finishAndReleaseAll();
        }
    }

    private ProxySettings settings(long responseNanos, long perTryNanos, int attempts) {
        return new ProxySettings(null, null, responseNanos, perTryNanos, 1_000_000, attempts, 65536, 20, 100);
    }

    private Exchange exchange(HttpRequest request, ProxySettings settings) {
        return exchange(request, settings, client);
    }

    /** @param tunnels the connection's side for switching protocols, {@code null} for one that cannot */
    private Exchange exchange(HttpRequest request, ProxySettings settings, TunnelSide tunnels) {
        ProxyContext proxy = LocalProxy.context(registry, pool, settings, (backend, outcome) -> outcomes.add(outcome),
                clock);
        Exchange ex = new Exchange(client, tunnels, proxy, proxy.firstPool(), null, settings, request, "req-1", null,
                "127.0.0.1", null, null);
        client.exchange = ex;
        return ex;
    }

    private static HttpRequest request(HttpMethod method, String... headers) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, "/x");
        r.headers().set(HttpHeaderNames.HOST, "example");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().set(headers[i], headers[i + 1]);
        }
        return r;
    }

    /** Starts {@code ex} for a bodyless request: its (empty) last part, then its start, as the frontends do. */
    private static Exchange startBodyless(Exchange ex) {
        ex.onRequestContent(LastHttpContent.EMPTY_LAST_CONTENT);
        ex.start();
        ex.flushToBackend();
        return ex;
    }

    /** A bodyless GET. */
    private Exchange startGet(ProxySettings settings) {
        return startBodyless(exchange(request(HttpMethod.GET), settings));
    }

    /**
     * Starts a bodyless WebSocket upgrade, its headers prepared as the frontend prepares them.
     *
     * @param tunnels the connection's side for switching protocols, {@code null} for one that cannot
     * @param headers more request headers, name then value
     */
    private Exchange startUpgrade(ProxySettings settings, TunnelSide tunnels, String... headers) {
        List<String> all = new ArrayList<>(List.of("Upgrade", "websocket", "Connection", "Upgrade"));
        all.addAll(List.of(headers));
        HttpRequest r = request(HttpMethod.GET, all.toArray(String[]::new));
        Exchange ex = exchange(r, settings, tunnels);
        HeaderRules.prepareRequest(r, "127.0.0.1", "req-1");
        return startBodyless(ex);
    }

    @Test
    void aGetGoesToABackendAndItsResponseStreamsBack() {
        Exchange ex = startGet(settings(30 * SECOND, 0, 2));
        assertEquals(ExchangeState.AWAITING_HEAD, ex.state());
        EmbeddedChannel b1 = pool.last();
        assertTrue(sent(b1).startsWith("GET /x HTTP/1.1\r\n"));

        respond(b1, "HTTP/1.1 200 OK|Content-Length: 2||ok");

        assertEquals(ExchangeState.DONE, ex.state());
        assertEquals(200, client.status());
        assertEquals("ok", client.body.toString());
        assertTrue(client.done);
        assertEquals(List.of(b1), pool.released, "a clean keep-alive response gives the connection back");
        assertEquals(List.of(Outcome.SUCCESS), outcomes);
        assertEquals(0, backendState("b1").inFlight());
    }

    @Test
    void anExpected100ContinueIsForwardedAndOtherInterimResponsesAreNot() {
        Exchange ex = exchange(request(HttpMethod.POST, "content-length", "2", "expect", "100-continue"),
                settings(30 * SECOND, 0, 2));
        ex.start();
        EmbeddedChannel b1 = pool.last();
        assertEquals(ExchangeState.SENDING, ex.state(), "the body has not come yet");

        respond(b1, "HTTP/1.1 100 Continue||HTTP/1.1 103 Early Hints|Link: </a>||");
        assertEquals(List.of(100), client.interim);

        ex.onRequestContent(new DefaultLastHttpContent(Unpooled.copiedBuffer("hi", StandardCharsets.US_ASCII)));
        ex.flushToBackend();
        assertEquals(ExchangeState.AWAITING_HEAD, ex.state());
        assertTrue(sent(b1).endsWith("\r\n\r\nhi"));

        respond(b1, "HTTP/1.1 201 Created|Content-Length: 0||");
        assertEquals(201, client.status());
        assertEquals(ExchangeState.DONE, ex.state());
    }

    @Test
    void aResetBeforeTheResponseIsRetriedOnAnotherBackend() {
        Exchange ex = startGet(settings(30 * SECOND, 0, 2));
        EmbeddedChannel b1 = pool.last();
        b1.close();

        assertEquals(2, pool.opened.size(), "a second try");
        assertEquals("b2", pool.backends.get(1));
        assertEquals(List.of("b2"), pool.fresh, "after a lost connection the retry does not reuse an idle one");
        assertEquals(ExchangeState.AWAITING_HEAD, ex.state());
        respond(pool.last(), "HTTP/1.1 200 OK|Content-Length: 0||");
        assertEquals(200, client.status());
        assertEquals(List.of(Outcome.RESET, Outcome.SUCCESS), outcomes);
    }

    @Test
    void aRefusedConnectionIsRetriedForFreeEvenForAPostWithoutKey() {
        pool.refuse.add(9001);
        startBodyless(exchange(request(HttpMethod.POST, "content-length", "0"), settings(30 * SECOND, 0, 1)));

        assertEquals(List.of("b1", "b2"), pool.backends);
        respond(pool.last(), "HTTP/1.1 201 Created|Content-Length: 0||");
        assertEquals(201, client.status());
        assertEquals(List.of(Outcome.CONNECT_FAILURE, Outcome.SUCCESS), outcomes);
    }

    @Test
    void aPostWithoutKeyIsNotRetriedOnceItWasSent() {
        Exchange ex = exchange(request(HttpMethod.POST, "content-length", "0"), settings(30 * SECOND, 0, 2));
        ex.start();
        ex.onRequestContent(LastHttpContent.EMPTY_LAST_CONTENT);
        pool.last().close();

        assertEquals(1, pool.opened.size());
        assertEquals(List.of(502), client.errors);
        assertEquals(ExchangeState.DONE, ex.state());
    }

    @Test
    void aStatusThatIsNotThreeDigitsOrOutOfRangeIsAMalformedAnswerRetriedLikeA502() {
        Exchange ex = startGet(settings(30 * SECOND, 0, 2));
        respond(pool.last(), "HTTP/1.1 2000 OK|Content-Length: 0||");
        respond(pool.last(), "HTTP/1.1 600 Weird|Content-Length: 0||");
        respond(pool.last(), "HTTP/1.1 204 No Content||");

        assertEquals(List.of("b1", "b2", "b3"), pool.backends);
        assertEquals(204, client.status());
        assertEquals(List.of(Outcome.MALFORMED, Outcome.MALFORMED, Outcome.SUCCESS), outcomes);
        assertEquals(ExchangeState.DONE, ex.state());
    }

    @Test
    void triesShareTheResponseTimeoutAndEachHasItsPerTryTimeout() {
        Exchange ex = startGet(settings(3 * SECOND, SECOND, 2));
        long start = now;
        assertEquals(start + SECOND, ex.responseDeadline(), "the per-try deadline comes first");

        now = start + SECOND;
        ex.onResponseTimeout();
        assertEquals(List.of("b1", "b2"), pool.backends, "a try past its own timeout is retried");
        assertEquals(start + 2 * SECOND, ex.responseDeadline());

        now = start + 2 * SECOND;
        ex.onResponseTimeout();
        assertEquals(start + 3 * SECOND, ex.responseDeadline(), "the last try gets only what remains");

        now = start + 3 * SECOND;
        ex.onResponseTimeout();
        assertEquals(List.of(504), client.errors, "the client's whole wait is over");
        assertEquals(3, pool.opened.size());
        assertEquals(List.of(Outcome.TIMEOUT, Outcome.TIMEOUT, Outcome.TIMEOUT), outcomes);
        assertFalse(pool.last().isOpen(), "the backend connection of a timed-out try is closed");
        assertEquals(0, ex.responseDeadline());
    }

    @Test
    void aRetryAfterAPerTryTimeoutArmsTheClientsDeadlineAgain() {
        // The connection's one timer fires for the per-try deadline and holds nothing after. The
        // retry's connection is still being made, and its per-try deadline (4 s) would fall after
        // the client's (3 s) anyway: the client's deadline must be armed again.
        Exchange ex = startGet(settings(3 * SECOND, 2 * SECOND, 2));
        long start = now;
        pool.hold.add(9002);

        advanceTo(start + 2 * SECOND);
        assertEquals(List.of("b1", "b2"), pool.backends, "the timer ended the first try");
        assertEquals(ExchangeState.CONNECTING, ex.state());
        pool.hold.clear();
        pool.pending.get(0).setSuccess(pool.acquire(registry.current().byId("b2"), client.eventLoop()).getNow());
        assertEquals(ExchangeState.AWAITING_HEAD, ex.state());
        assertEquals(start + 3 * SECOND, ex.responseDeadline(), "the client's deadline comes first now");

        advanceTo(start + 3 * SECOND);
        assertEquals(List.of(504), client.errors, "the timer, armed again, ended the client's wait");
        assertEquals(List.of(Outcome.TIMEOUT, Outcome.TIMEOUT), outcomes);
    }

    /** Moves the clock, and the client loop's scheduled tasks with it, to {@code t}, running what falls due. */
    private void advanceTo(long t) {
        client.loop.advanceTimeBy(t - now, TimeUnit.NANOSECONDS);
        now = t;
        client.loop.runScheduledPendingTasks();
    }

    @Test
    void withoutPerTryTimeoutOneTryWaitsTheWholeResponseTimeoutAndNoMore() {
        Exchange ex = startGet(settings(SECOND, 0, 2));
        assertEquals(now + SECOND, ex.responseDeadline());
        now += SECOND;
        ex.onResponseTimeout();

        assertEquals(1, pool.opened.size(), "no retry once the client's wait is over");
        assertEquals(List.of(504), client.errors);
    }

    @Test
    void aResponseCutMidBodyEndsVisiblyCutAndIsNotRetried() {
        Exchange ex = startGet(settings(30 * SECOND, 0, 2));
        EmbeddedChannel b1 = pool.last();
        respond(b1, "HTTP/1.1 200 OK|Content-Length: 10||abc");
        assertEquals(ExchangeState.STREAMING, ex.state());
        b1.close();

        assertEquals(ExchangeState.DONE, ex.state());
        assertTrue(client.aborted, "the client connection is closed, short of the announced length");
        assertEquals(1, pool.opened.size());
        assertEquals("abc", client.body.toString());
        assertEquals(List.of(Outcome.RESET), outcomes);
    }

    @Test
    void theRequestBodyIsReadOnlyWhileTheBackendCanTakeIt() {
        Exchange ex = exchange(request(HttpMethod.PUT, "content-length", "100000"), settings(30 * SECOND, 0, 2));
        pool.waterMark = new WriteBufferWaterMark(1024, 2048);
        ex.start();
        assertTrue(ex.wantsRequestData());
        ex.onRequestContent(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[4096])));
        assertFalse(ex.wantsRequestData(), "a backend past its high water mark stops the client's reads");
        ex.flushToBackend();
        sent(pool.last());
        assertTrue(ex.wantsRequestData(), "and reading resumes once it drained");
        ex.onClientClosed();
        assertEquals(ExchangeState.DONE, ex.state());
        assertEquals(List.of(Outcome.CANCELLED), outcomes);
    }

    @Test
    void theClientLeavingCancelsAConnectInProgress() {
        pool.hold.add(9001);
        Exchange ex = startGet(settings(30 * SECOND, 0, 2));
        assertEquals(ExchangeState.CONNECTING, ex.state());
        ex.onClientClosed();

        assertEquals(ExchangeState.DONE, ex.state());
        assertTrue(pool.pending.get(0).isCancelled(), "the pool keeps the connection if it is made");
        assertEquals(0, backendState("b1").inFlight());
    }

    // ---- the admission queue: one backend with one slot ----

    private final BackendRegistry oneSlot = LocalProxy.registry(clock, LocalProxy.backend("b1", 9001, 1));
    /** Clients besides {@link #client}, each with its own event loop; released after each test. */
    private final List<RecordingClient> otherClients = new ArrayList<>();

    /** The one-slot backend behind an admission queue of {@code maxQueue} waiting {@code queueNanos} at most. */
    private final class Queueing {
        final ProxySettings settings;
        final ProxyContext proxy;

        Queueing(long queueNanos, int maxQueue) {
            settings = new ProxySettings(null, null, 30 * SECOND, 0, 1_000_000, 0, 65536, 20, 100, queueNanos,
                    maxQueue, null, null, null, HeadersConfig.DEFAULT);
            proxy = LocalProxy.context(oneSlot, pool, settings, (backend, outcome) -> outcomes.add(outcome), clock);
        }

        /** Starts a bodyless GET from {@code c}. */
        Exchange get(RecordingClient c) {
            Exchange ex = new Exchange(c, c, proxy, proxy.firstPool(), null, settings, request(HttpMethod.GET),
                    "req-" + c.hashCode(), null, "127.0.0.1", null, null);
            c.exchange = ex;
            return startBodyless(ex);
        }

        AdmissionQueue queue() {
            return proxy.firstPool().queue();
        }
    }

    /** A client of its own, with its own event loop, released after the test. */
    private RecordingClient otherClient() {
        RecordingClient c = new RecordingClient(clock);
        otherClients.add(c);
        return c;
    }

    /** Asserts that {@code refused}, from {@code c}, was answered 503 for {@code failure}, with a Retry-After. */
    private static void assertRefused(Exchange refused, RecordingClient c, UpstreamFailure failure) {
        assertEquals(ExchangeState.DONE, refused.state());
        assertEquals(List.of(503), c.errors);
        assertEquals(List.of(failure.message()), c.errorMessages);
        assertTrue(c.retryAfter);
    }

    @Test
    void aRequestFindingEveryBackendFullWaitsAndTakesTheSlotWhenItFrees() {
        Queueing q = new Queueing(SECOND, 10);
        RecordingClient second = otherClient();
        Exchange first = q.get(client);
        assertEquals(ExchangeState.AWAITING_HEAD, first.state());
        Exchange waiting = q.get(second);
        assertEquals(ExchangeState.QUEUED, waiting.state());
        assertEquals(now + SECOND, waiting.responseDeadline(), "the queue wait, inside the whole wait");
        assertEquals(1, q.queue().length());
        second.loop.runPendingTasks();
        assertEquals(ExchangeState.QUEUED, waiting.state(), "its first turn found no room: it keeps its place");

        respond(pool.last(), "HTTP/1.1 200 OK|Content-Length: 2||ok");
        assertEquals(ExchangeState.DONE, first.state());
        assertEquals(ExchangeState.QUEUED, waiting.state(), "its turn runs on its own loop");
        second.loop.runPendingTasks();

        assertEquals(ExchangeState.AWAITING_HEAD, waiting.state());
        assertEquals(1, oneSlot.current().byId("b1").state().inFlight());
        assertEquals(0, q.queue().length());
        respond(pool.last(), "HTTP/1.1 200 OK|Content-Length: 2||ok");
        assertEquals(200, second.status());
        assertEquals(List.of(), second.errors);
    }

    @Test
    void aQueuedRequestWhoseWaitRunsOutGets503WithRetryAfter() {
        Queueing q = new Queueing(SECOND, 10);
        RecordingClient second = otherClient();
        q.get(client);
        Exchange waiting = q.get(second);
        assertEquals(ExchangeState.QUEUED, waiting.state());

        now += SECOND;
        waiting.onResponseTimeout();

        assertRefused(waiting, second, UpstreamFailure.QUEUE_TIMEOUT);
        assertEquals(0, q.queue().length());
        assertEquals(1, q.queue().timedOut());
        assertEquals(1, oneSlot.current().byId("b1").state().inFlight(), "the first still holds its slot");
    }

    @Test
    void aQueuedRequestWhoseClientLeavesIsForgottenAndTheNextWaiterGetsTheSlot() {
        Queueing q = new Queueing(SECOND, 10);
        RecordingClient gone = otherClient();
        RecordingClient third = otherClient();
        Exchange first = q.get(client);
        Exchange left = q.get(gone);
        Exchange next = q.get(third);
        assertEquals(ExchangeState.QUEUED, next.state(), "behind the one waiting, without a selection of its own");
        assertEquals(2, q.queue().length());

        left.onClientClosed();
        assertEquals(ExchangeState.DONE, left.state());
        assertEquals(1, q.queue().length());
        respond(pool.last(), "HTTP/1.1 200 OK|Content-Length: 2||ok");
        assertEquals(ExchangeState.DONE, first.state());
        gone.loop.runPendingTasks();
        third.loop.runPendingTasks();

        assertEquals(ExchangeState.AWAITING_HEAD, next.state());
        assertEquals(List.of(), gone.errors, "nothing is sent to a client that left");
        assertEquals(0, q.queue().timedOut());
    }

    @ParameterizedTest
    @CsvSource({"0, 10", "1000000000, 0"})
    void withoutAQueueAFullPoolAnswers503AtOnce(long queueNanos, int maxQueue) {
        Queueing q = new Queueing(queueNanos, maxQueue);
        RecordingClient second = otherClient();
        q.get(client);
        assertRefused(q.get(second), second, UpstreamFailure.NO_BACKEND);
        assertEquals(0, q.queue().queued());
    }

    @Test
    void aFullQueueAnswers503AtOnce() {
        Queueing q = new Queueing(SECOND, 1);
        RecordingClient second = otherClient();
        RecordingClient third = otherClient();
        q.get(client);
        assertEquals(ExchangeState.QUEUED, q.get(second).state());
        assertRefused(q.get(third), third, UpstreamFailure.QUEUE_FULL);
        assertEquals(1, q.queue().refusedFull());
    }

    @Test
    void aPoolWhoseBackendsAllDrainFailsAtOnceEvenWithAQueue() {
        Queueing q = new Queueing(SECOND, 10);
        oneSlot.current().byId("b1").state().setDraining(true);
        oneSlot.refresh();

        assertRefused(q.get(client), client, UpstreamFailure.NO_BACKEND);
        assertEquals(0, q.queue().queued(), "no slot comes to a pool that only drains");
    }

    @ParameterizedTest
    @EnumSource(ExchangeState.class)
    void onlyTheDocumentedTransitionsAreAllowed(ExchangeState from) {
        Map<ExchangeState, Set<ExchangeState>> allowed = Map.of(
                ExchangeState.SELECTING, EnumSet.of(ExchangeState.CONNECTING, ExchangeState.SENDING, ExchangeState.SELECTING, ExchangeState.QUEUED, ExchangeState.DONE),
                ExchangeState.QUEUED, EnumSet.of(ExchangeState.SELECTING, ExchangeState.DONE),
                ExchangeState.CONNECTING, EnumSet.of(ExchangeState.SENDING, ExchangeState.SELECTING, ExchangeState.DONE),
                ExchangeState.SENDING, EnumSet.of(ExchangeState.AWAITING_HEAD, ExchangeState.STREAMING, ExchangeState.SELECTING, ExchangeState.DONE),
                ExchangeState.AWAITING_HEAD, EnumSet.of(ExchangeState.STREAMING, ExchangeState.TUNNELING, ExchangeState.SELECTING, ExchangeState.DONE),
                ExchangeState.STREAMING, EnumSet.of(ExchangeState.DONE),
                ExchangeState.TUNNELING, EnumSet.of(ExchangeState.DONE),
                ExchangeState.DONE, EnumSet.noneOf(ExchangeState.class));
        for (ExchangeState to : ExchangeState.values()) {
            assertEquals(allowed.get(from).contains(to), from.canGoTo(to), from + " -> " + to);
        }
    }

    private io.fulcrum.balancer.balancing.BackendState backendState(String id) {
        return registry.current().byId(id).state();
    }

    /** Records what the exchange asks of the client connection. */
    @Test
    void aWebSocketUpgradeBecomesATunnelHoldingItsBackendUntilItCloses() {
        Exchange ex = startUpgrade(settings(30 * SECOND, 0, 2), client,
                "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        EmbeddedChannel b1 = pool.last();
        String sent = sent(b1).toLowerCase();
        assertTrue(sent.contains("upgrade: websocket") && sent.contains("connection: upgrade"), sent);

        respond(b1, "HTTP/1.1 101 Switching Protocols|Upgrade: websocket|Connection: Upgrade|"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=||first-frame");

        assertEquals(ExchangeState.TUNNELING, ex.state());
        assertEquals(101, client.status());
        assertEquals("websocket", client.heads.get(0).headers().get("Upgrade"));
        assertEquals("first-frame", client.body.toString(), "bytes after the 101 are relayed after it");
        assertEquals(1, backendState("b1").inFlight(), "an open tunnel counts in its backend's load");
        assertEquals(0, ex.responseDeadline(), "no response timeout inside a tunnel");

        ex.onTunnelData(false, Unpooled.copiedBuffer("from-client", StandardCharsets.ISO_8859_1));
        b1.flushOutbound();
        assertEquals("from-client", sent(b1));

        b1.close();
        assertTunnelEnded(ex);
    }

    /** Asserts that the tunnel of {@code ex} is over: a success, its backend's slot freed, the client closed. */
    private void assertTunnelEnded(Exchange ex) {
        assertEquals(ExchangeState.DONE, ex.state());
        assertTrue(client.aborted, "the client connection closes with the tunnel");
        assertEquals(List.of(Outcome.SUCCESS), outcomes);
        assertEquals(0, backendState("b1").inFlight());
    }

    @Test
    void aTunnelEndsWhenBothSidesHaveSentTheirLastByteEachInTurn() {
        Exchange ex = startUpgrade(settings(30 * SECOND, 0, 2), client);
        EmbeddedChannel b1 = pool.last();
        sent(b1);
        respond(b1, "HTTP/1.1 101 Switching Protocols|Upgrade: websocket|Connection: Upgrade||");
        assertEquals(ExchangeState.TUNNELING, ex.state());

        // The backend's FIN: the client's direction ends, the client's own goes on.
        ex.onTunnelInputShutdown(true);
        assertTrue(client.tunnelOutputShut, "the client is sent a FIN");
        assertEquals(ExchangeState.TUNNELING, ex.state());
        ex.onTunnelData(false, Unpooled.copiedBuffer("still sending", StandardCharsets.ISO_8859_1));
        ex.flushToBackend();
        assertEquals("still sending", sent(b1));
        assertEquals(1, backendState("b1").inFlight(), "a half-closed tunnel is still load");

        // Then the client's: the tunnel is over (an embedded channel has no half-close: it closes).
        ex.onTunnelInputShutdown(false);
        assertTunnelEnded(ex);
        assertFalse(b1.isOpen());
    }

    @Test
    void anUpgradeAnsweredWithoutSwitchingIsAnOrdinaryResponse() {
        Exchange ex = startUpgrade(settings(30 * SECOND, 0, 2), client);
        respond(pool.last(), "HTTP/1.1 426 Upgrade Required|Content-Length: 2||no");
        assertEquals(ExchangeState.DONE, ex.state());
        assertEquals(426, client.status());
        assertEquals("no", client.body.toString());
        assertEquals(1, client.upgradesRefused);
    }

    @Test
    void aConnectionThatCannotSwitchProtocolsAsksTheBackendForNoUpgrade() {
        Exchange ex = startUpgrade(settings(30 * SECOND, 0, 0), null);
        EmbeddedChannel b1 = pool.last();
        assertFalse(sent(b1).toLowerCase().contains("upgrade"), "Upgrade is hop-by-hop and not relayed");

        respond(b1, "HTTP/1.1 101 Switching Protocols|Upgrade: websocket|Connection: Upgrade||");
        assertEquals(ExchangeState.DONE, ex.state());
        assertEquals(List.of(502), client.errors, "a switch that was not asked for");
        assertEquals(0, client.upgradesRefused);
        assertTrue(client.heads.isEmpty(), "nothing went through the tunnel side");
    }

    @Test
    void aSwitchNobodyAskedForIsAMalformedAnswer() {
        Exchange ex = startGet(settings(30 * SECOND, 0, 0));
        respond(pool.last(), "HTTP/1.1 101 Switching Protocols|Upgrade: websocket|Connection: Upgrade||");
        assertEquals(ExchangeState.DONE, ex.state());
        assertEquals(List.of(502), client.errors);
        assertEquals(List.of(Outcome.MALFORMED), outcomes);
    }

    private static final class RecordingClient implements ClientSide, TunnelSide {
        final EmbeddedChannel loop = new EmbeddedChannel();
        final List<HttpResponse> heads = new ArrayList<>();
        final StringBuilder body = new StringBuilder();
        final List<Integer> interim = new ArrayList<>();
        final List<Integer> errors = new ArrayList<>();
        final List<String> errorMessages = new ArrayList<>();
        boolean retryAfter;
        /** The connection's timer, on {@link #loop}'s frozen clock: a test moves both ({@code advanceTo}). */
        final DeadlineTimer timer;
        Exchange exchange;
        boolean aborted;
        boolean tunnelOutputShut;
        boolean done;
        int upgradesRefused;

        RecordingClient(NanoClock clock) {
            loop.freezeTime();
            // As a frontend does when its timer fires: the exchange whose deadline passed times out.
            timer = new DeadlineTimer(clock, () -> {
                long deadline = exchange == null ? 0 : exchange.responseDeadline();
                if (deadline != 0 && clock.nanoTime() - deadline >= 0) {
                    exchange.onResponseTimeout();
                }
            });
        }

        int status() {
            return heads.get(heads.size() - 1).status().code();
        }

        void releaseAll() {
            loop.finishAndReleaseAll();
        }

        @Override
        public EventLoop eventLoop() {
            return loop.eventLoop();
        }

        @Override
        public boolean isWritable() {
            return true;
        }

        @Override
        public boolean inReadBatch() {
            return false;
        }

        @Override
        public void readRequest() {
        }

        @Override
        public void writeResponse(HttpObject part) {
            if (part instanceof HttpResponse) {
                heads.add((HttpResponse) part);
            }
            if (part instanceof HttpContent) {
                body.append(((HttpContent) part).content().toString(StandardCharsets.ISO_8859_1));
            }
            ReferenceCountUtil.release(part);
        }

        @Override
        public void writeInterim(HttpResponse response) {
            interim.add(response.status().code());
        }

        @Override
        public void flushToClient() {
        }

        @Override
        public void abortResponse(Exchange ex) {
            aborted = true;
        }

        @Override
        public void writeError(Exchange ex, HttpResponseStatus status, String message, boolean close,
                boolean retryAfter) {
            errors.add(status.code());
            errorMessages.add(message);
            this.retryAfter |= retryAfter;
        }

        @Override
        public void writeAnswer(Exchange ex, io.netty.handler.codec.http.FullHttpResponse answer, boolean close) {
            errors.add(answer.status().code());
            answer.release();
        }

        @Override
        public DeadlineTimer responseTimer() {
            return timer;
        }

        @Override
        public void startTunnel(HttpResponse switching) {
            heads.add(switching);
        }

        @Override
        public void writeTunnel(ByteBuf data) {
            if (heads.isEmpty()) {
                // On the wire these bytes would come before the 101.
                body.append("(before the 101)");
            }
            body.append(data.toString(StandardCharsets.ISO_8859_1));
            data.release();
        }

        @Override
        public void shutdownTunnelOutput() {
            tunnelOutputShut = true;
        }

        @Override
        public void upgradeRefused() {
            upgradesRefused++;
        }

        @Override
        public void exchangeDone(Exchange ex) {
            done = true;
        }
    }
}
