package io.fulcrum.balancer.http1.codec;

import static io.fulcrum.testing.WireText.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The backend connection's codec: strict status codes, and no body expected after HEAD. */
class BackendCodecTest {

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(Http1Codec.client(8192, 65536, 65536));
    }

    private static void send(EmbeddedChannel ch, HttpMethod method) {
        ch.writeOutbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/"));
        ByteBuf written = ch.readOutbound();
        assertTrue(written.toString(StandardCharsets.US_ASCII).startsWith(method.name() + " / HTTP/1.1"));
        written.release();
    }

    private static void receive(EmbeddedChannel ch, String raw) {
        ch.writeInbound(bytes(raw));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0200", "+200", "2000", "20", "2x0", "-200"})
    void aStatusCodeThatIsNotThreeDigitsIsMalformed(String code) {
        EmbeddedChannel ch = channel();
        send(ch, HttpMethod.GET);
        receive(ch, "HTTP/1.1 " + code + " OK|Content-Length: 0||");
        HttpResponse head = ch.readInbound();
        assertTrue(head.decoderResult().isFailure(), code + " must not decode as a response");
        ReferenceCountUtil.release(head);
        ch.releaseInbound();
        assertFalse(ch.finishAndReleaseAll());
    }

    @ParameterizedTest
    @ValueSource(ints = {200, 599, 99, 600})
    void threeDigitsDecodeAndTheRangeIsLeftToTheExchange(int code) {
        EmbeddedChannel ch = channel();
        send(ch, HttpMethod.GET);
        receive(ch, String.format("HTTP/1.1 %03d X|Content-Length: 0||", code));
        HttpResponse head = ch.readInbound();
        assertTrue(head.decoderResult().isSuccess());
        assertEquals(code, head.status().code());
        ReferenceCountUtil.release(head);
        ch.releaseInbound();
        assertFalse(ch.finishAndReleaseAll());
    }

    @ParameterizedTest
    @CsvSource({"HEAD, true", "GET, false"})
    void theResponseToAHeadHasNoBodyWhateverItsContentLength(HttpMethod method, boolean empty) {
        EmbeddedChannel ch = channel();
        send(ch, method);
        send(ch, HttpMethod.GET);
        // For HEAD the 5 announced bytes never come; "HTTP/" after the head is the next response.
        receive(ch, "HTTP/1.1 200 OK|Content-Length: 5||" + (empty ? "" : "hello")
                + "HTTP/1.1 204 No Content||");
        HttpResponse first = ch.readInbound();
        assertEquals(200, first.status().code());
        Object end = ch.readInbound();
        assertInstanceOf(LastHttpContent.class, end);
        assertEquals(empty ? 0 : 5, ((LastHttpContent) end).content().readableBytes());
        ReferenceCountUtil.release(end);
        HttpResponse second = ch.readInbound();
        assertEquals(204, second.status().code(), "framing stays in step after the first response");
        ReferenceCountUtil.release(first);
        ReferenceCountUtil.release(second);
        ch.releaseInbound();
        assertFalse(ch.finishAndReleaseAll());
    }
}
