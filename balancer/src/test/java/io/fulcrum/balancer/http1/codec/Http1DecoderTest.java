package io.fulcrum.balancer.http1.codec;

import static io.fulcrum.testing.WireText.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The decoder alone: what each head and body decodes to, and what is refused. */
class Http1DecoderTest {
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();
    private EmbeddedChannel ch;

    @AfterEach
    void finish() {
        if (ch != null) {
            ch.releaseInbound();
            assertFalse(ch.finishAndReleaseAll());
        }
    }

    private EmbeddedChannel requests() {
        ch = new EmbeddedChannel(new Http1Decoder(true, 64, 256, 16, methods));
        return ch;
    }

    /** A response decoder, the requests of whose responses come next having been {@code asked}. */
    private EmbeddedChannel responses(HttpMethod... asked) {
        methods.addAll(List.of(asked));
        ch = new EmbeddedChannel(new Http1Decoder(false, 64, 256, 16, methods));
        return ch;
    }

    /** Every object decoded so far; body parts as their text, released. */
    private List<Object> decoded() {
        List<Object> out = new ArrayList<>();
        Object o;
        while ((o = ch.readInbound()) != null) {
            if (o instanceof HttpContent) {
                HttpContent c = (HttpContent) o;
                String text = c.content().toString(StandardCharsets.ISO_8859_1);
                boolean failed = c.decoderResult().isFailure();
                out.add((c instanceof LastHttpContent ? "last:" : "part:") + text + (failed ? "!" : ""));
                c.release();
            } else {
                out.add(o);
            }
        }
        return out;
    }

    private Throwable failureOf(String raw) {
        requests().writeInbound(bytes(raw));
        List<Object> out = decoded();
        HttpObject first = (HttpObject) out.get(0);
        assertTrue(first.decoderResult().isFailure(), "refused: " + raw);
        return first.decoderResult().cause();
    }

    @Test
    void aRequestDecodesToItsHeadAndAnEmptyLastPart() {
        requests().writeInbound(bytes("GET /a?b=1 HTTP/1.1|Host: example|X-Spaced:   v w  ||"));
        List<Object> out = decoded();
        HttpRequest head = (HttpRequest) out.get(0);
        assertSame(HttpMethod.GET, head.method());
        assertEquals("/a?b=1", head.uri());
        assertSame(HttpVersion.HTTP_1_1, head.protocolVersion());
        assertEquals("example", head.headers().get("host"));
        assertEquals("v w", head.headers().get("X-SPACED"), "surrounding whitespace is not part of the value");
        assertEquals("last:", out.get(1));
        assertEquals(List.of(HttpMethod.GET), List.copyOf(methods));
    }

    @Test
    void aHeadArrivingByteByByteDecodesTheSame() {
        requests();
        String raw = "\r\nPOST /p HTTP/1.0\r\nHost: h\r\nContent-Length: 3\r\nA: 1\r\nA: 2\r\n\r\nxyz";
        for (byte b : raw.getBytes(StandardCharsets.ISO_8859_1)) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        List<Object> out = decoded();
        HttpRequest head = (HttpRequest) out.get(0);
        assertSame(HttpMethod.POST, head.method());
        assertSame(HttpVersion.HTTP_1_0, head.protocolVersion());
        assertEquals(List.of("1", "2"), head.headers().getAll("a"));
        assertEquals(List.of("part:x", "part:y", "last:z"), out.subList(1, out.size()));
    }

    @Test
    void pipelinedRequestsAndAFixedBodyLargerThanOnePart() {
        requests().writeInbound(bytes("PUT /1 HTTP/1.1|Host: h|Content-Length: 20||0123456789abcdefghijGET /2 HTTP/1.1|Host: h||"));
        List<Object> out = decoded();
        assertEquals("/1", ((HttpRequest) out.get(0)).uri());
        assertEquals("part:0123456789abcdef", out.get(1));
        assertEquals("last:ghij", out.get(2));
        assertEquals("/2", ((HttpRequest) out.get(3)).uri());
        assertEquals("last:", out.get(4));
    }

    @Test
    void aChunkedBodyWithExtensionsAndTrailers() {
        requests().writeInbound(bytes("POST / HTTP/1.1|Host: h|Transfer-Encoding: chunked||"
                + "3;name=\"v\"|abc|1|d|0|Checksum: 42|Content-Length: 9||"));
        List<Object> out = decoded();
        assertEquals(List.of("part:abc", "part:d"), out.subList(1, 3));
        assertEquals("last:", out.get(3));
        assertEquals(4, out.size());
    }

    @Test
    void trailersArePassedOnExceptFramingFields() {
        requests().writeInbound(bytes("POST / HTTP/1.1|Host: h|Transfer-Encoding: chunked||1|a|0|Checksum: 42|Content-Length: 9||"));
        assertInstanceOf(HttpRequest.class, ch.readInbound());
        HttpContent part = ch.readInbound();
        part.release();
        LastHttpContent last = ch.readInbound();
        assertEquals("42", last.trailingHeaders().get("checksum"));
        assertNull(last.trailingHeaders().get("content-length"));
        last.release();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "GET / HTTP/1.1|Host: h| folded||",
        "GET / HTTP/1.1|Host: h|X: a|\tfolded||",
        "GET / HTTP/1.1\nHost: h||",
        "GET / HTTP/1.1|Host: h\n|",
        "GET / HTTP/1.1|Host : h||",
        "GET / HTTP/1.1|Ho(st: h||",
        "GET / HTTP/1.1|: h||",
        "GET / HTTP/1.1|X: a\rb||",
        "GET / HTTP/1.1|X: a\u0000b||",
        "GET / HTTP/1.1|X: a\u007fb||",
        "GET  / HTTP/1.1|Host: h||",
        "GET / HTTP/1.1 |Host: h||",
        "GET / HTTX/1.1|Host: h||",
        "G@T / HTTP/1.1|Host: h||",
        "GET /|Host: h||",
        "POST / HTTP/1.1|Host: h|Content-Length: 1|Transfer-Encoding: chunked||",
        "POST / HTTP/1.0|Host: h|Transfer-Encoding: chunked||",
        "POST / HTTP/1.1|Host: h|Transfer-Encoding: chunked, gzip||",
        "POST / HTTP/1.1|Host: h|Transfer-Encoding: chunked|Transfer-Encoding: chunked||",
        "POST / HTTP/1.1|Host: h|Content-Length: +1||",
        "POST / HTTP/1.1|Host: h|Content-Length: 1, 1||",
        "POST / HTTP/1.1|Host: h|Content-Length: 1|Content-Length: 1||",
        "POST / HTTP/1.1|Host: h|Content-Length: 99999999999999999999||",
    })
    void malformedHeadsAreRefused(String raw) {
        failureOf(raw);
    }

    static Stream<Arguments> tooLong() {
        return Stream.of(
                arguments("GET /" + "a".repeat(100) + " HTTP/1.1|Host: h||", TooLongHttpLineException.class),
                arguments("GET / HTTP/1.1|X: " + "a".repeat(300) + "||", TooLongHttpHeaderException.class),
                // Without an end in sight the limits hold too: nothing unbounded is buffered.
                arguments("GET /" + "a".repeat(100), TooLongHttpLineException.class));
    }

    @ParameterizedTest
    @MethodSource("tooLong")
    void theRequestLineAndTheHeaderSectionHaveLimits(String raw, Class<? extends Throwable> refusal) {
        assertInstanceOf(refusal, failureOf(raw));
    }

    @ParameterizedTest
    @ValueSource(strings = {"zz|ok|0||", "2|okay|0||", "2 |ok|0||", "2;\u0001|ok|0||", "10000000000000000|"})
    void brokenChunkingFailsTheLastPartAndNothingAfterIsRead(String body) {
        requests().writeInbound(bytes("POST / HTTP/1.1|Host: h|Transfer-Encoding: chunked||" + body + "GET / HTTP/1.1|Host: h||"));
        List<Object> out = decoded();
        assertInstanceOf(HttpRequest.class, out.get(0));
        assertTrue(((String) out.get(out.size() - 1)).endsWith("!"), "failed: " + out);
        assertEquals(1, out.stream().filter(o -> o instanceof HttpRequest).count(), "nothing after the failure: " + out);
    }

    @Test
    void afterAMalformedHeadNothingMoreIsDecoded() {
        requests().writeInbound(bytes("GET / HTTP/1.1|Bad Name: x||GET / HTTP/1.1|Host: h||"));
        List<Object> out = decoded();
        assertEquals(1, out.size());
        assertTrue(((HttpRequest) out.get(0)).decoderResult().isFailure());
    }

    @Test
    void aResponseWithoutLengthEndsWhenTheConnectionCloses() {
        responses(HttpMethod.GET).writeInbound(bytes("HTTP/1.0 200 OK|Server: x||hello"));
        ch.finish();
        List<Object> out = decoded();
        HttpResponse head = (HttpResponse) out.get(0);
        assertEquals(200, head.status().code());
        assertSame(HttpVersion.HTTP_1_0, head.protocolVersion());
        assertEquals(List.of("part:hello", "last:"), out.subList(1, out.size()));
        ch = null;
    }

    @Test
    void interimResponsesHaveNoBodyAndKeepTheRequestsMethodForTheFinalOne() {
        responses(HttpMethod.HEAD).writeInbound(bytes("HTTP/1.1 100 Continue||HTTP/1.1 200 OK|Content-Length: 5||"));
        List<Object> out = decoded();
        assertEquals(100, ((HttpResponse) out.get(0)).status().code());
        assertEquals("last:", out.get(1));
        assertEquals(200, ((HttpResponse) out.get(2)).status().code());
        assertEquals("last:", out.get(3), "the response to HEAD has no body");
        assertTrue(methods.isEmpty());
    }

    @Test
    void aNonStandardReasonPhraseIsKept() {
        responses(HttpMethod.GET).writeInbound(bytes("HTTP/1.1 200 Fine Thanks|Content-Length: 0||"));
        HttpResponse head = ch.readInbound();
        assertEquals("Fine Thanks", head.status().reasonPhrase());
        ReferenceCountUtil.release(ch.readInbound());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "HTTP/1.1 200 OK|Content-Length: 1|Transfer-Encoding: chunked||",
        "HTTP/1.1 2000 OK||",
        "HTTP/2.0 200 OK||",
        "HTTP/1.1 200 O\u0001K||",
    })
    void malformedResponsesAreRefused(String raw) {
        responses(HttpMethod.GET).writeInbound(bytes(raw));
        HttpResponse head = ch.readInbound();
        assertTrue(head.decoderResult().isFailure(), raw);
    }

    @Test
    void aConnectionStartingWithTheHttp2PrefaceIsHandedOverWithItsBytes() {
        List<String> handedOver = new ArrayList<>();
        ch = new EmbeddedChannel(new Http1Decoder(true, 64, 256, 16, methods, p -> handedOver.add("h2")));
        ch.writeInbound(bytes("PRI * HTTP/2.0||SM"));
        assertTrue(handedOver.isEmpty(), "a part of the preface waits for the rest");
        ch.writeInbound(bytes("||frames"));
        assertEquals(List.of("h2"), handedOver);
        ByteBuf passed = ch.readInbound();
        assertEquals("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nframes", passed.toString(StandardCharsets.ISO_8859_1));
        passed.release();
        assertNull(ch.pipeline().get(Http1Decoder.class), "the decoder left");
    }

    @Test
    void anHttp11ConnectionIsNotTakenForHttp2() {
        List<String> handedOver = new ArrayList<>();
        ch = new EmbeddedChannel(new Http1Decoder(true, 64, 256, 16, methods, p -> handedOver.add("h2")));
        ch.writeInbound(bytes("POST / HTTP/1.1|Host: h|Content-Length: 0||PRI * HTTP/2.0||SM||"));
        List<Object> out = decoded();
        assertTrue(handedOver.isEmpty());
        assertSame(HttpMethod.POST, ((HttpRequest) out.get(0)).method());
        assertTrue(((HttpRequest) out.get(2)).decoderResult().isSuccess(), "PRI later is only an unknown method");
    }
}
