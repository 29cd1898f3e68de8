package io.fulcrum.balancer.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MetricsHandlerTest {
    private SimpleMeterRegistry registry;
    private EmbeddedChannel channel;

    @BeforeEach
    void setUp() {
        registry = new SimpleMeterRegistry();
        channel = new EmbeddedChannel(new MetricsHandler(new BalancerMetrics(registry).requests()));
    }

    private double requests(String statusClass, String outcome) {
        return registry.get(BalancerMetrics.REQUESTS).tag("status.class", statusClass).tag("outcome", outcome)
                .counter().count();
    }

    private long timed() {
        return registry.get(BalancerMetrics.REQUEST_DURATION).timer().count();
    }

    private void request() {
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/x");
        channel.writeInbound(request);
        Object read = channel.readInbound();
        assertSame(request, read, "the request passes through untouched");
        ReferenceCountUtil.release(read);
    }

    private void respond(Object... parts) {
        for (Object part : parts) {
            channel.writeOutbound(part);
            Object written = channel.readOutbound();
            assertSame(part, written, "every response part passes through untouched");
            ReferenceCountUtil.release(written);
        }
    }

    private static DefaultFullHttpResponse full(int code) {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
                Unpooled.copiedBuffer("body", StandardCharsets.US_ASCII));
    }

    @ParameterizedTest
    @CsvSource({"200, 2xx", "204, 2xx", "301, 3xx", "404, 4xx", "431, 4xx", "502, 5xx", "503, 5xx", "599, 5xx"})
    void countsAStreamedResponseByStatusClassWhenItsLastPartIsWritten(int code, String statusClass) {
        request();
        respond(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code)),
                new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII)));
        assertEquals(0, requests(statusClass, "completed"), "not counted before the last part");
        respond(LastHttpContent.EMPTY_LAST_CONTENT);
        assertEquals(1, requests(statusClass, "completed"));
        assertEquals(1, timed());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void countsAFullResponseAsOneCompletedRequest() {
        request();
        respond(full(503));
        assertEquals(1, requests("5xx", "completed"));
        assertEquals(0, requests("2xx", "completed"));
        assertEquals(1, timed());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void pipelinedRequestsAreEachCountedOnceInOrder() {
        request();
        request();
        request();
        respond(full(200));
        respond(full(404));
        respond(full(200));
        assertEquals(2, requests("2xx", "completed"));
        assertEquals(1, requests("4xx", "completed"));
        assertEquals(3, timed());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void deepPipeliningGrowsTheRingWithoutLosingOrder() {
        for (int i = 0; i < 20; i++) {
            request();
        }
        for (int i = 0; i < 20; i++) {
            respond(full(i % 2 == 0 ? 200 : 500));
        }
        assertEquals(10, requests("2xx", "completed"));
        assertEquals(10, requests("5xx", "completed"));
        assertEquals(20, timed());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void interimContinueResponseEndsNothing() {
        request();
        respond(full(100));
        assertEquals(0, requests("1xx", "completed"));
        respond(full(201));
        assertEquals(1, requests("2xx", "completed"));
        assertEquals(1, timed());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void requestsOpenAtCloseCountAsAborted() {
        request();
        request();
        respond(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        channel.close();
        assertEquals(1, requests("2xx", "aborted"), "the response that had begun");
        assertEquals(1, requests("none", "aborted"), "the pipelined request that got nothing");
        assertEquals(0, requests("2xx", "completed"));
        assertEquals(0, timed());
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aResponseWithoutARequestIsCountedButNotTimed() {
        respond(full(400));
        assertEquals(1, requests("4xx", "completed"));
        assertEquals(0, timed());
        assertFalse(channel.finishAndReleaseAll());
    }
}
