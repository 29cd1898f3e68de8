package io.fulcrum.balancer.http1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.http1.FrontendConnection.CloseMode;
import io.fulcrum.balancer.http1.FrontendConnection.State;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The HTTP/1.1 client connection's states without a frontend: which moves are legal, which states
 * end the connection, what a local answer does to it in each {@link CloseMode}, and how the mode
 * is chosen.
 */
class FrontendConnectionTest {
    /** Every legal move; any pair not listed must be refused. */
    private static final Set<String> LEGAL = Set.of(
            "READING_HEAD -> EXCHANGING", // a request was admitted
            "READING_HEAD -> DISCARDING_BODY", // refused or answered locally, the connection kept
            "READING_HEAD -> CLOSING", // refused with a close, idle, head deadline
            "READING_HEAD -> CLOSED",
            "EXCHANGING -> READING_HEAD", // the exchange ended with the whole request read
            "EXCHANGING -> DISCARDING_BODY", // ended before the empty last part of a bodyless request
            "EXCHANGING -> TUNNELING", // the backend switched protocols
            "EXCHANGING -> CLOSING", // an error that closes, a cut response, Connection: close
            "EXCHANGING -> CLOSED",
            "DISCARDING_BODY -> READING_HEAD", // the answered request's last part came
            "DISCARDING_BODY -> CLOSING", // its body was malformed
            "DISCARDING_BODY -> CLOSED",
            "TUNNELING -> TUNNEL_OUTPUT_SHUT", // the backend sent its last byte
            "TUNNELING -> CLOSING", // the tunnel ended (drain, tunnel-idle, the backend closed)
            "TUNNELING -> CLOSED",
            "TUNNEL_OUTPUT_SHUT -> CLOSING", // the client sent its last byte too
            "TUNNEL_OUTPUT_SHUT -> CLOSED",
            "CLOSING -> LINGERING", // a final answer is out and output shut down
            "CLOSING -> CLOSED",
            "LINGERING -> CLOSED");

    static Stream<Arguments> everyPair() {
        List<Arguments> pairs = new ArrayList<>();
        for (State from : State.values()) {
            for (State to : State.values()) {
                pairs.add(Arguments.of(from, to));
            }
        }
        return pairs.stream();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("everyPair")
    void onlyTheListedMovesAreLegal(State from, State to) {
        assertEquals(LEGAL.contains(from + " -> " + to), from.canGoTo(to));
    }

    @ParameterizedTest
    @CsvSource({
        "READING_HEAD, false",
        "EXCHANGING, false",
        "DISCARDING_BODY, false",
        "TUNNELING, false",
        "TUNNEL_OUTPUT_SHUT, false",
        "CLOSING, true",
        "LINGERING, true",
        "CLOSED, true",
    })
    void onlyTheClosingStatesEndTheConnection(State state, boolean ending) {
        assertEquals(ending, state.ending());
    }

    @ParameterizedTest(name = "linger={0} closes={1} draining={2} -> {3}")
    @CsvSource({
        "true, false, false, LINGER",
        "true, true, false, LINGER",
        "true, false, true, LINGER",
        "false, true, false, CLOSE",
        "false, false, true, CLOSE",
        "false, true, true, CLOSE",
        "false, false, false, KEEP_ALIVE",
    })
    void theCloseModeOfALocalAnswer(boolean linger, boolean closes, boolean draining, CloseMode expected) {
        assertEquals(expected, FrontendConnection.closeMode(linger, closes, draining));
    }

    @ParameterizedTest
    @EnumSource(CloseMode.class)
    void aLocalAnswerLeavesTheConnectionAsItsModeSays(CloseMode mode) {
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        int[] dropped = {0};
        // respondLocally reads nothing of the proxy's settings; the close mode is already chosen.
        FrontendConnection connection = new FrontendConnection(ch.pipeline().firstContext(), null,
                () -> dropped[0]++);
        FullHttpResponse answer = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_FOUND,
                Unpooled.copiedBuffer("none", StandardCharsets.US_ASCII));

        connection.respondLocally(answer, mode);
        ch.runPendingTasks();

        FullHttpResponse written = ch.readOutbound();
        assertEquals(HttpResponseStatus.NOT_FOUND, written.status());
        String header = written.headers().get(HttpHeaderNames.CONNECTION);
        written.release();
        if (mode == CloseMode.KEEP_ALIVE) {
            assertNull(header);
            assertTrue(ch.isOpen());
            assertEquals(State.READING_HEAD, connection.state());
            assertEquals(0, dropped[0], "pipelined requests are kept");
        } else {
            assertEquals("close", header);
            // An embedded channel cannot half-close, so a lingering close is a plain close there.
            assertFalse(ch.isOpen());
            assertEquals(State.CLOSING, connection.state());
            assertEquals(1, dropped[0], "pipelined requests are dropped");
        }
        assertFalse(ch.finishAndReleaseAll());
    }

    @ParameterizedTest
    @EnumSource(value = State.class, names = {"CLOSING", "LINGERING", "CLOSED"})
    void aConnectionThatIsEndingStaysInItsStateWhenClosedAgain(State ending) {
        EmbeddedChannel ch = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        FrontendConnection connection = new FrontendConnection(ch.pipeline().firstContext(), null, () -> { });
        connection.moveTo(State.EXCHANGING);
        connection.moveTo(State.CLOSING);
        if (ending == State.LINGERING) {
            connection.moveTo(State.LINGERING);
        } else if (ending == State.CLOSED) {
            connection.closed();
        }

        connection.closeNow();

        assertEquals(ending, connection.state());
        assertFalse(ch.isOpen());
        assertFalse(ch.finishAndReleaseAll());
    }
}
