package io.fulcrum.balancer.http2;

import static io.fulcrum.testing.TextAssertions.assertContainsAll;
import static io.fulcrum.testing.TextAssertions.assertContainsNone;
import static io.fulcrum.testing.WireText.bytes;
import static io.fulcrum.testing.WireText.outbound;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.exchange.EmbeddedBackendPool;
import io.fulcrum.balancer.exchange.ProxyBackendHandler;
import io.fulcrum.balancer.exchange.ProxyContext;
import io.fulcrum.balancer.exchange.ProxySettings;
import io.fulcrum.balancer.http1.codec.Http1Codec;
import io.fulcrum.testing.LocalProxy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP/2 frontend without sockets: Netty's HTTP/2 client on one {@link EmbeddedChannel}, the
 * balancer's {@link Http2Frontend} on another, bytes shuttled between them, and backends from an
 * {@link EmbeddedBackendPool}. Runs under paranoid leak detection like every test.
 */
class Http2FrontendTest {
    private final EmbeddedBackendPool pool = new EmbeddedBackendPool();
    private final ProxyContext proxy = LocalProxy.context(pool, LocalProxy.settings(1_000_000), 1);

    private Http2Frontend frontend;
    private EmbeddedChannel server;
    private Received received;
    private Http2ConnectionHandler clientHandler;
    private EmbeddedChannel client;
    private ChannelHandlerContext clientCtx;

    @BeforeEach
    void connect() {
        connect(proxy);
    }

    /** A client connected to a frontend of {@code proxy}, the preface and settings exchanged. */
    private void connect(ProxyContext proxy) {
        frontend = Http2Frontend.create(proxy, false, 100, 8192, 1000);
        server = new EmbeddedChannel(frontend);
        received = new Received();
        clientHandler = new Http2ConnectionHandlerBuilder().server(false).frameListener(received).build();
        client = new EmbeddedChannel(clientHandler);
        clientCtx = client.pipeline().context(clientHandler);
        pump();
    }

    /** What the client got, per stream. */
    static final class Received extends Http2FrameAdapter {
        final Map<Integer, Http2Headers> heads = new HashMap<>();
        final Map<Integer, StringBuilder> bodies = new HashMap<>();
        final Map<Integer, Boolean> ended = new HashMap<>();
        final Map<Integer, Long> resets = new HashMap<>();

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
                boolean endOfStream) {
            heads.putIfAbsent(streamId, headers);
            if (endOfStream) {
                ended.put(streamId, true);
            }
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
                short weight, boolean exclusive, int padding, boolean endOfStream) {
            onHeadersRead(ctx, streamId, headers, padding, endOfStream);
        }

        @Override
        public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            bodies.computeIfAbsent(streamId, id -> new StringBuilder()).append(data.toString(StandardCharsets.UTF_8));
            if (endOfStream) {
                ended.put(streamId, true);
            }
            return data.readableBytes() + padding;
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
            resets.put(streamId, errorCode);
        }

        String body(int streamId) {
            StringBuilder b = bodies.get(streamId);
            return b == null ? "" : b.toString();
        }
    }

    @AfterEach
    void release() {
        // Backends first: exchanges they leave answer their clients, whose output is then released.
        for (EmbeddedChannel ch : pool.opened) {
            ch.finishAndReleaseAll();
        }
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
    }

    /** Moves bytes both ways until neither side has more to say. */
    private void pump() {
        for (int round = 0; round < 20; round++) {
            boolean moved = false;
            Object o;
            while ((o = client.readOutbound()) != null) {
                server.writeInbound(o);
                moved = true;
            }
            server.runPendingTasks();
            while ((o = server.readOutbound()) != null) {
                client.writeInbound(o);
                moved = true;
            }
            if (!moved) {
                return;
            }
        }
    }

    private void sendHeaders(int streamId, Http2Headers headers, boolean endOfStream) {
        clientHandler.encoder().writeHeaders(clientCtx, streamId, headers, 0, endOfStream, clientCtx.newPromise());
        client.flush();
        pump();
    }

    private void sendData(int streamId, String data, boolean endOfStream) {
        clientHandler.encoder().writeData(clientCtx, streamId,
                Unpooled.copiedBuffer(data, StandardCharsets.UTF_8), 0, endOfStream, clientCtx.newPromise());
        client.flush();
        pump();
    }

    private static Http2Headers request(String method, String path) {
        return new DefaultHttp2Headers().method(method).path(path).scheme("https").authority("shop.example");
    }

    private void respond(EmbeddedChannel backend, String raw) {
        backend.writeInbound(bytes(raw));
        pump();
    }

    private int unconsumed(int streamId) {
        Http2Stream stream = frontend.connection().stream(streamId);
        return stream == null ? 0 : frontend.decoder().flowController().unconsumedBytes(stream);
    }

    @Test
    void aStreamsForgedForwardingHeadersAreDroppedOrReplacedAsOnHttp11() {
        // No trusted edges here: the peer is a client, and what it claims is not passed on as true.
        sendHeaders(3, request("GET", "/").add("forwarded", "for=1.2.3.4").add("x-request-id", "forged-id")
                .add("x-forwarded-proto", "https").add("x-forwarded-host", "bank.example")
                .add("x-forwarded-port", "443").add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                true);
        EmbeddedChannel backend = pool.last();
        String lower = outbound(backend).toLowerCase();
        assertContainsNone(lower, "\r\nforwarded:", "forged-id", "4bf92f3577b34da6a3ce929d0e0e4736", "x-forwarded-port: 443");
        assertContainsAll(lower, "\r\nx-forwarded-proto: http\r\n", "\r\nx-forwarded-host: shop.example\r\n");
        respond(backend, "HTTP/1.1 204 No Content|Connection: keep-alive||");
    }

    @Test
    void aStreamsHeadersBecomeAnHttp11RequestAndTheResponseHeadersComeBackLowerCase() {
        Http2Headers headers = request("GET", "/cart?x=1")
                .add("cookie", "a=1").add("cookie", "b=2").add("user-agent", "h2-test");
        sendHeaders(3, headers, true);

        assertEquals(1, pool.opened.size());
        EmbeddedChannel backend = pool.last();
        String sent = outbound(backend);
        assertTrue(sent.startsWith("GET /cart?x=1 HTTP/1.1\r\n"), sent);
        String lower = sent.toLowerCase();
        assertContainsAll(lower,
                "\r\nhost: shop.example\r\n", // :authority is the Host
                "\r\ncookie: a=1; b=2\r\n", // cookies joined with "; "
                "\r\nuser-agent: h2-test\r\n",
                "\r\nx-forwarded-proto: http\r\n",
                "\r\nx-request-id: ",
                "\r\ntraceparent: 00-"); // a trace starts here
        assertContainsNone(lower,
                "x-http2-", // no conversion extension headers
                "transfer-encoding"); // a request that ended with its headers has no body

        respond(backend, "HTTP/1.1 200 OK|Content-Type: text/plain|Content-Length: 2|Connection: keep-alive"
                + "|Keep-Alive: timeout=5|X-Up: Yes||ok");

        Http2Headers head = received.heads.get(3);
        assertEquals("200", head.status().toString());
        assertEquals("text/plain", head.get("content-type").toString());
        assertEquals("Yes", head.get("x-up").toString());
        assertNull(head.get("connection"), "connection-specific fields are removed");
        assertNull(head.get("keep-alive"));
        for (Map.Entry<CharSequence, CharSequence> field : head) {
            assertEquals(field.getKey().toString().toLowerCase(), field.getKey().toString());
        }
        assertEquals("ok", received.body(3));
        assertEquals(Boolean.TRUE, received.ended.get(3));
        assertEquals(List.of(backend), pool.released, "a complete exchange gives its connection back");
    }

    @Test
    void requestDataIsAcknowledgedOnlyOnceTheBackendTookIt() {
        pool.hold.add(9001);
        sendHeaders(3, request("POST", "/upload").add("content-length", "10"), false);
        sendData(3, "hello", false);

        assertEquals(1, pool.pending.size(), "the backend connection is still being made");
        assertEquals(5, unconsumed(3), "nothing is acknowledged while the backend cannot take it");

        ChannelHandler[] codec = Http1Codec.client(8192, 65536, 65536);
        EmbeddedChannel backend = new EmbeddedChannel(codec[0], codec[1], new ProxyBackendHandler());
        pool.opened.add(backend);
        Promise<Channel> connecting = pool.pending.get(0);
        connecting.setSuccess(backend);
        pump();

        assertEquals(0, unconsumed(3), "acknowledged once written to the backend");
        sendData(3, "world", true);
        assertEquals(0, unconsumed(3));
        String sent = outbound(backend);
        assertTrue(sent.startsWith("POST /upload HTTP/1.1\r\n"), sent);
        assertTrue(sent.endsWith("\r\n\r\nhelloworld"), sent);

        respond(backend, "HTTP/1.1 201 Created|Content-Length: 0||");
        assertEquals("201", received.heads.get(3).status().toString());
        assertEquals(Boolean.TRUE, received.ended.get(3), "a bodyless response is its header block");
    }

    @Test
    void aStreamResetByTheClientCancelsItsExchangeAndItsBackendConnection() {
        sendHeaders(3, request("GET", "/slow"), true);
        EmbeddedChannel backend = pool.last();
        assertTrue(outbound(backend).startsWith("GET /slow HTTP/1.1"));
        respond(backend, "HTTP/1.1 200 OK|Content-Length: 100||partial");
        assertEquals("partial", received.body(3));

        clientHandler.resetStream(clientCtx, 3, Http2Error.CANCEL.code(), clientCtx.newPromise());
        client.flush();
        pump();

        assertFalse(backend.isOpen(), "a connection left mid-response is never reused");
        assertTrue(pool.released.isEmpty());
        assertTrue(server.isOpen(), "the other streams go on");

        sendHeaders(5, request("GET", "/next"), true);
        EmbeddedChannel next = pool.last();
        respond(next, "HTTP/1.1 200 OK|Content-Length: 4||next");
        assertEquals("next", received.body(5));
    }

    @Test
    void onDrainAnEventStreamEndsAndItsBackendConnectionClosesWhileAnOrdinaryResponseGoesOn() {
        sendHeaders(3, request("GET", "/events"), true);
        EmbeddedChannel events = pool.last();
        assertTrue(outbound(events).startsWith("GET /events HTTP/1.1"));
        respond(events, "HTTP/1.1 200 OK|Content-Type: Text/Event-Stream;charset=utf-8|Transfer-Encoding: chunked||"
                + "7|data:\n\n|");
        sendHeaders(5, request("GET", "/slow"), true);
        EmbeddedChannel slow = pool.last();
        respond(slow, "HTTP/1.1 200 OK|Content-Type: text/plain|Content-Length: 4||pa");
        assertEquals("data:\n\n", received.body(3));
        assertNull(received.ended.get(3));

        frontend.onDrain();
        pump();

        assertEquals(Boolean.TRUE, received.ended.get(3), "the event stream ends with its stream");
        assertNull(received.resets.get(3), "ended, not reset: an EventSource reconnects");
        assertFalse(events.isOpen(), "the rest of the event stream is never read");
        assertNull(received.ended.get(5), "a response that ends by itself is left to finish");
        assertTrue(slow.isOpen());
        respond(slow, "ss");
        assertEquals("pass", received.body(5));
        assertEquals(Boolean.TRUE, received.ended.get(5));
    }

    @Test
    void manyStreamsInterleavedOnOneConnectionEachGetTheirOwnResponse() {
        int[] ids = {3, 5, 7, 9};
        for (int id : ids) {
            sendHeaders(id, request("POST", "/s" + id), false);
        }
        for (int id : ids) {
            sendData(id, "part1-" + id + ";", false);
        }
        for (int id : ids) {
            sendData(id, "part2-" + id, true);
        }
        assertEquals(ids.length, pool.opened.size());
        for (int i = ids.length - 1; i >= 0; i--) {
            EmbeddedChannel backend = pool.opened.get(i);
            String sent = outbound(backend);
            assertTrue(sent.startsWith("POST /s" + ids[i] + " HTTP/1.1"), sent);
            assertTrue(sent.toLowerCase().contains("transfer-encoding: chunked"), "no length announced: " + sent);
            assertTrue(sent.contains("part1-" + ids[i] + ";") && sent.contains("part2-" + ids[i]), sent);
            String body = "reply-" + ids[i];
            respond(backend, "HTTP/1.1 200 OK|Transfer-Encoding: chunked||" + Integer.toHexString(body.length())
                    + "|" + body + "|0||");
        }
        for (int id : ids) {
            assertEquals("reply-" + id, received.body(id));
            assertEquals(Boolean.TRUE, received.ended.get(id));
            assertNull(received.heads.get(id).get("transfer-encoding"));
            assertEquals(0, unconsumed(id));
        }
    }

    @Test
    void aRequestWithoutPathIsAStreamError() {
        sendHeaders(3, new DefaultHttp2Headers().method("GET").scheme("https").authority("x"), true);
        assertEquals(0, pool.opened.size());
        assertEquals(Http2Error.PROTOCOL_ERROR.code(), received.resets.get(3));
        assertTrue(server.isOpen());
    }

    @Test
    void aRefusedRequestIsAnsweredAndTheRestOfItsBodyStopped() {
        sendHeaders(3, request("POST", "/big").add("content-length", "2000000"), false);

        assertEquals(0, pool.opened.size(), "nothing reaches a backend");
        assertEquals("413", received.heads.get(3).status().toString());
        assertTrue(received.body(3).contains("too large"), received.body(3));
        assertEquals(Boolean.TRUE, received.ended.get(3));
        assertEquals(Http2Error.NO_ERROR.code(), received.resets.get(3),
                "the client is asked to stop sending once the answer is out");
        assertTrue(server.isOpen());
    }

    @Test
    void aStreamWhoseBackendIsNotReadyDoesNotStallTheOthers() {
        pool.hold.add(9001);
        sendHeaders(3, request("POST", "/stalled"), false);
        pool.hold.clear();
        sendHeaders(5, request("POST", "/moving"), false);
        String chunk = "x".repeat(60_000);
        sendData(3, chunk, false);
        sendData(5, chunk, true);

        assertEquals(60_000, unconsumed(3), "the stalled stream's data waits unacknowledged");
        EmbeddedChannel moving = pool.last();
        String sent = outbound(moving);
        assertTrue(sent.startsWith("POST /moving HTTP/1.1"), sent);
        String body = sent.substring(sent.indexOf("\r\n\r\n"));
        assertEquals(60_000, body.chars().filter(c -> c == 'x').count(),
                "the other stream's body got through the connection's window");
        assertEquals(0, unconsumed(5));
    }

    @Test
    void aStreamWaitingPastTheResponseTimeoutGetsItsGatewayTimeoutWhileAnotherGoesOn() {
        server.finishAndReleaseAll();
        client.finishAndReleaseAll();
        ProxySettings quick = new ProxySettings(null, null, TimeUnit.MILLISECONDS.toNanos(200), 0, 1_000_000, 0,
                65536, 20, 100);
        connect(LocalProxy.context(pool, quick, 1));
        sendHeaders(3, request("GET", "/hung"), true);
        sendHeaders(5, request("GET", "/fine"), true);
        EmbeddedChannel fine = pool.opened.get(1);
        respond(fine, "HTTP/1.1 200 OK|Transfer-Encoding: chunked||4|part|");
        assertEquals("200", received.heads.get(5).status().toString());

        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            server.runPendingTasks();
            pump();
            return received.ended.containsKey(3);
        });
        assertEquals("504", received.heads.get(3).status().toString());
        assertFalse(pool.opened.get(0).isOpen(), "the hung try's connection is closed");
        assertFalse(received.ended.containsKey(5), "a stream already streaming is not timed out");
        respond(fine, "0||");
        assertEquals("part", received.body(5));
        assertEquals(Boolean.TRUE, received.ended.get(5));
    }
}
