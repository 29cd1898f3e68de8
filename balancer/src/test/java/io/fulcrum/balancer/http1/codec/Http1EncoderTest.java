package io.fulcrum.balancer.http1.codec;

import static io.fulcrum.testing.WireText.bytes;
import static io.fulcrum.testing.WireText.outbound;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.junit.jupiter.api.Test;

/** Heads decoded and written again: received bytes kept, changes applied, bodies framed. */
class Http1EncoderTest {

    private static String written(EmbeddedChannel ch) {
        return outbound(ch).replace("\r\n", "|");
    }

    /** Decodes one request head with the server's decoder. */
    private static HttpRequest request(String raw) {
        EmbeddedChannel in = new EmbeddedChannel(Http1Codec.server(8192, 8192, 65536));
        in.writeInbound(bytes(raw));
        HttpRequest head = in.readInbound();
        in.releaseInbound();
        in.finishAndReleaseAll();
        return head;
    }

    @Test
    void anUnchangedRequestIsWrittenAsTheBytesItCameIn() {
        String raw = "GET /a%20b?c HTTP/1.1|hOsT:   example  |X-Odd:\tv||";
        EmbeddedChannel out = new EmbeddedChannel(Http1Codec.client(8192, 8192, 65536));
        out.writeOutbound(request(raw), LastHttpContent.EMPTY_LAST_CONTENT);
        assertEquals(raw, written(out));
        assertFalse(out.finishAndReleaseAll());
    }

    @Test
    void removedFieldsAreLeftOutAndSetOnesAddedAfterTheRest() {
        HttpRequest r = request("GET / HTTP/1.0|Connection: keep-alive, X-Drop|X-Drop: 1|Host: h|Keep-Alive: 5|A: 1||");
        r.headers().remove("connection").remove("x-drop").remove("keep-alive");
        r.headers().set("A", "2").add("B", "3");
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
        EmbeddedChannel out = new EmbeddedChannel(Http1Codec.client(8192, 8192, 65536));
        out.writeOutbound(r);
        assertEquals("GET / HTTP/1.1|Host: h|A: 2|B: 3||", written(out));
        assertFalse(out.finishAndReleaseAll());
    }

    @Test
    void chunkedBodiesAreFramedSmallAndLargePartsAlike() {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>();
        methods.add(HttpMethod.GET);
        EmbeddedChannel out = new EmbeddedChannel(new Http1Encoder(true, methods));
        HttpResponse head = new io.netty.handler.codec.http.DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
        String large = "x".repeat(5000);
        LastHttpContent end = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
        end.trailingHeaders().set("Checksum", "7");
        out.writeOutbound(head, new DefaultHttpContent(bytes("abc")), new DefaultHttpContent(bytes(large)), end);
        assertEquals("HTTP/1.1 200 OK|transfer-encoding: chunked||3|abc|1388|" + large + "|0|Checksum: 7||", written(out));
        assertFalse(out.finishAndReleaseAll());
    }

    @Test
    void theResponseToAHeadRequestCarriesNoBody() {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>();
        methods.add(HttpMethod.HEAD);
        methods.add(HttpMethod.GET);
        EmbeddedChannel out = new EmbeddedChannel(new Http1Encoder(true, methods));
        FullHttpResponse toHead = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND, bytes("gone"));
        toHead.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 4);
        FullHttpResponse toGet = toHead.retainedDuplicate();
        out.writeOutbound(toHead, toGet);
        assertEquals("HTTP/1.1 404 Not Found|content-length: 4||HTTP/1.1 404 Not Found|content-length: 4||gone", written(out));
        assertFalse(out.finishAndReleaseAll());
    }

    @Test
    void aReceivedStatusLineIsKeptUnlessTheVersionChanges() {
        EmbeddedChannel in = new EmbeddedChannel(Http1Codec.client(8192, 8192, 65536));
        in.writeOutbound(request("GET / HTTP/1.1|Host: h||"));
        ReferenceCountUtil.release(in.readOutbound());
        in.writeInbound(bytes("HTTP/1.0 200 Fine|Content-Length: 0||"));
        HttpResponse r = in.readInbound();
        in.releaseInbound();
        in.finishAndReleaseAll();

        ArrayDeque<HttpMethod> methods = new ArrayDeque<>();
        methods.add(HttpMethod.GET);
        methods.add(HttpMethod.GET);
        EmbeddedChannel out = new EmbeddedChannel(new Http1Encoder(true, methods));
        out.writeOutbound(r);
        assertEquals("HTTP/1.0 200 Fine|Content-Length: 0||", written(out));
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
        out.writeOutbound(r);
        assertEquals("HTTP/1.1 200 Fine|Content-Length: 0||", written(out));
        assertFalse(out.finishAndReleaseAll());
    }
}
