package io.fulcrum.balancer.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link ObsFoldRejectingHandler} in front of the strict codec: folded header lines make the
 * request fail decoding, while bodies (Content-Length and chunked) that contain CRLF followed by
 * whitespace pass untouched. Every case is fed whole and one byte at a time, since the handler
 * keeps its place across reads.
 */
class ObsFoldRejectingHandlerTest {

    /** Decodes the bytes; returns "ok:<uri>" or "bad" per request head, in order. */
    private static List<String> decode(String raw, boolean byteByByte) {
        EmbeddedChannel ch = new EmbeddedChannel(new ObsFoldRejectingHandler(), new HttpServerCodec(
                new HttpDecoderConfig().setStrictLineParsing(true).setValidateHeaders(true), 64));
        byte[] bytes = raw.replace("|", "\r\n").getBytes(StandardCharsets.ISO_8859_1);
        if (byteByByte) {
            for (byte b : bytes) {
                ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
            }
        } else {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        }
        List<String> heads = new ArrayList<>();
        Object msg;
        while ((msg = ch.readInbound()) != null) {
            try {
                if (msg instanceof HttpRequest) {
                    HttpRequest r = (HttpRequest) msg;
                    heads.add(r.decoderResult().isFailure() ? "bad" : "ok:" + r.uri());
                } else if (msg instanceof HttpContent && ((HttpObject) msg).decoderResult().isFailure()) {
                    heads.add("bad-content");
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }
        assertFalse(ch.finishAndReleaseAll());
        return heads;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '~', value = {
            "fold with SP ~ GET /a HTTP/1.1|Host: a|X-F: 1| 2||                                ~ bad",
            "fold with HT ~ GET /a HTTP/1.1|Host: a|X-F: 1|\t2||                               ~ bad",
            "fold after the request line ~ GET /a HTTP/1.1| Host: a||                          ~ bad",
            "no fold ~ GET /a HTTP/1.1|Host: a|X-F: 1 2||                                      ~ ok:/a",
            "empty lines before the request ~ ||GET /a HTTP/1.1|Host: a||                      ~ ok:/a",
            "CRLF SP in a fixed body ~ POST /a HTTP/1.1|Host: a|Content-Length: 4|| | xGET /b HTTP/1.1|Host: a|| ~ ok:/a ok:/b",
            "CRLF SP in a chunked body ~ POST /a HTTP/1.1|Host: a|Transfer-Encoding: chunked||5|a| b|0||GET /b HTTP/1.1|Host: a|| ~ ok:/a ok:/b",
            "fold after a fixed body ~ POST /a HTTP/1.1|Host: a|Content-Length: 2||hiGET /b HTTP/1.1|Host: a|X: 1| 2|| ~ ok:/a bad",
            "fold after a chunked body ~ POST /a HTTP/1.1|Host: a|Transfer-Encoding: chunked||2|hi|0|T: t||GET /b HTTP/1.1|Host: a|X: 1| 2|| ~ ok:/a bad",
            "fold in a trailer ~ POST /a HTTP/1.1|Host: a|Transfer-Encoding: chunked||2|hi|0|T: 1| 2||  ~ ok:/a bad-content",
            "chunk extension ~ POST /a HTTP/1.1|Host: a|Transfer-Encoding: chunked||2;x=y|hi|0||GET /b HTTP/1.1|Host: a|| ~ ok:/a ok:/b",
    })
    void rejectsFoldedHeadersOnly(String name, String raw, String expected) {
        List<String> want = List.of(expected.strip().split(" "));
        assertEquals(want, decode(raw.strip(), false), name);
        assertEquals(want, decode(raw.strip(), true), name + " (byte by byte)");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '~', value = {
            "POST /a HTTP/1.1|Host: a|Content-Length: 2|Transfer-Encoding: chunked||",
            "POST /a HTTP/1.1|Host: a|Content-Length: 2|Content-Length: 3||",
    })
    void leavesDoubtfulFramingToTheDecoder(String raw) {
        List<String> heads = decode(raw.strip() + "0||", false);
        assertTrue(heads.size() >= 1 && heads.get(0).equals("bad"), heads.toString());
    }
}
