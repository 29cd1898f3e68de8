package io.fulcrum.balancer.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.exchange.RequestIntake;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Unique and secret fields stay out of a connection's HPACK table, so the fields that repeat stay in it. */
class HpackIndexingTest {
    /** The encoded size of each of 200 responses, as one connection's encoder writes them in turn. */
    private static List<Integer> sizes(Http2HeadersEncoder.SensitivityDetector detector) throws Exception {
        DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder(detector);
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Http2Headers headers = new DefaultHttp2Headers().status("200")
                    .add("content-type", "application/json; charset=utf-8")
                    .add("server", "nginx/1.22.1")
                    .add("x-request-id", RequestIntake.newRequestId())
                    .add("set-cookie", "session=" + RequestIntake.newRequestId());
            ByteBuf out = Unpooled.buffer();
            encoder.encodeHeaders(1 + 2 * i, headers, out);
            sizes.add(out.readableBytes());
            out.release();
        }
        return sizes;
    }

    @Test
    void repeatedFieldsStayIndexedWhileRequestIdsAndCookiesChange() throws Exception {
        List<Integer> notIndexed = sizes(HpackIndexing.NOT_INDEXED);
        int steady = notIndexed.get(1);
        assertTrue(steady < notIndexed.get(0), "the second response refers to the first one's fields: " + notIndexed);
        for (int i = 1; i < notIndexed.size(); i++) {
            assertEquals(steady, notIndexed.get(i), "response " + i + ": " + notIndexed);
        }
        // Indexing every field: the new ids fill the table and push the repeated fields out, so
        // they are written out in full again now and then.
        List<Integer> indexed = sizes(Http2HeadersEncoder.NEVER_SENSITIVE);
        assertTrue(indexed.subList(1, indexed.size()).stream().anyMatch(size -> size > steady + 20), indexed.toString());
    }
}
