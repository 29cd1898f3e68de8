package io.fulcrum.balancer.exchange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The request side of the HTTP/2 backend stream codec: every write's promise is completed. */
class BackendStreamCodecTest {
    @Test
    void aHeadWithoutABodyIsOneHeadersFrameEndingTheStreamAndBothWritesComplete() {
        EmbeddedChannel ch = new EmbeddedChannel(new BackendStreamCodec());
        ChannelPromise head = ch.newPromise();
        ChannelPromise end = ch.newPromise();

        ch.write(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/items?x=1"), head);
        assertFalse(head.isDone(), "the head waits for the first body part, which says whether it ends the stream");
        ch.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT, end);

        Http2HeadersFrame frame = ch.readOutbound();
        assertTrue(frame.isEndStream());
        assertEquals("/items?x=1", frame.headers().path().toString());
        assertTrue(head.isSuccess(), "the head's write completes with its frame");
        assertTrue(end.isSuccess(), "so does the empty end that closed the stream");
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void anEmptyBodyPartCompletesAtOnceAndDataCarriesItsOwnPromise() {
        EmbeddedChannel ch = new EmbeddedChannel(new BackendStreamCodec());
        ChannelPromise head = ch.newPromise();
        ChannelPromise empty = ch.newPromise();
        ChannelPromise data = ch.newPromise();

        ch.write(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/posts"), head);
        ch.write(new DefaultHttpContent(Unpooled.EMPTY_BUFFER), empty);
        ch.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII)), data);

        Http2HeadersFrame frame = ch.readOutbound();
        assertFalse(frame.isEndStream());
        Http2DataFrame body = ch.readOutbound();
        assertEquals("hello", body.content().toString(StandardCharsets.US_ASCII));
        assertFalse(body.isEndStream());
        body.release();
        assertTrue(head.isSuccess());
        assertTrue(empty.isSuccess(), "nothing to send for it: done");
        assertTrue(data.isSuccess());
        assertFalse(ch.finishAndReleaseAll());
    }
}
