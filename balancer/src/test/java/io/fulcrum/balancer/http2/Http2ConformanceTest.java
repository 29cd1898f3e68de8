package io.fulcrum.balancer.http2;

import static io.fulcrum.testing.RawHttp2Client.COMPRESSION_ERROR;
import static io.fulcrum.testing.RawHttp2Client.CONTINUATION;
import static io.fulcrum.testing.RawHttp2Client.DATA;
import static io.fulcrum.testing.RawHttp2Client.END_HEADERS;
import static io.fulcrum.testing.RawHttp2Client.END_STREAM;
import static io.fulcrum.testing.RawHttp2Client.ENHANCE_YOUR_CALM;
import static io.fulcrum.testing.RawHttp2Client.FLOW_CONTROL_ERROR;
import static io.fulcrum.testing.RawHttp2Client.FRAME_SIZE_ERROR;
import static io.fulcrum.testing.RawHttp2Client.GOAWAY;
import static io.fulcrum.testing.RawHttp2Client.HEADERS;
import static io.fulcrum.testing.RawHttp2Client.PING;
import static io.fulcrum.testing.RawHttp2Client.PRIORITY;
import static io.fulcrum.testing.RawHttp2Client.PROTOCOL_ERROR;
import static io.fulcrum.testing.RawHttp2Client.PUSH_PROMISE;
import static io.fulcrum.testing.RawHttp2Client.RST_STREAM;
import static io.fulcrum.testing.RawHttp2Client.SETTINGS;
import static io.fulcrum.testing.RawHttp2Client.SETTINGS_ENABLE_PUSH;
import static io.fulcrum.testing.RawHttp2Client.SETTINGS_INITIAL_WINDOW_SIZE;
import static io.fulcrum.testing.RawHttp2Client.SETTINGS_MAX_FRAME_SIZE;
import static io.fulcrum.testing.RawHttp2Client.STREAM_CLOSED;
import static io.fulcrum.testing.RawHttp2Client.WINDOW_UPDATE;
import static io.fulcrum.testing.RawHttp2Client.block;
import static io.fulcrum.testing.RawHttp2Client.requestBlock;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.fulcrum.testing.EchoBalancer;
import io.fulcrum.testing.RawHttp2Client.Outcome;
import io.fulcrum.testing.RawHttp2Client;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The frame-level cases of h2spec (RFC 9113) that concern a proxy, driven by a client that is not
 * Fulcrum's or Netty's: raw frames written on a socket ({@link RawHttp2Client}), h2c with prior
 * knowledge. Each case expects the RFC's answer, a connection error (GOAWAY with its code) or a
 * stream error (RST_STREAM with its code, or the same code in a GOAWAY, since a stream error may
 * be treated as a connection error), and then the balancer still serving a new connection.
 * docs/operations.md ("Conformance") records the counts.
 */
class Http2ConformanceTest {
    @RegisterExtension
    static final EchoBalancer balancer = new EchoBalancer();

    /** What the client does after its preface and SETTINGS exchange (or instead of them). */
    @FunctionalInterface
    interface Script {
        void run(RawHttp2Client c) throws IOException;
    }

    /**
     * The answer a case expects: the RFC's, or, where the balancer answers otherwise
     * ({@code rfc} then names the RFC's answer), what it does, so that a change shows.
     */
    record Expect(String what, int stream, long code, String rfc) {
        static Expect goAway(long code) {
            return new Expect("connection error", 0, code, null);
        }

        static Expect reset(int stream, long code) {
            return new Expect("stream error", stream, code, null);
        }

        static Expect closed() {
            return new Expect("closed", 0, -1, null);
        }

        /** The RFC asks for {@code rfcAnswer}; the balancer answers {@code actual} (docs/operations.md says why). */
        static Expect differs(String rfcAnswer, Expect actual) {
            return new Expect(actual.what, actual.stream, actual.code, rfcAnswer);
        }

        void check(Outcome o) {
            switch (what) {
                case "closed" -> assertTrue(o.closed() || (o.goAway() != null
                        && o.goAway().errorCode() == PROTOCOL_ERROR), "closed, got " + o);
                case "connection error" -> {
                    assertTrue(o.goAway() != null, "GOAWAY " + code + ", got " + o);
                    assertEquals(code, o.goAway().errorCode(), "GOAWAY's code");
                }
                default -> {
                    long got = o.reset() != null ? o.reset().errorCode() : o.goAway() != null ? o.goAway().errorCode() : -1;
                    assertEquals(code, got, "RST_STREAM " + code + " (or the code in a GOAWAY), got " + o);
                }
            }
        }

        @Override
        public String toString() {
            String answer = what.equals("closed") ? what : what + " " + code;
            return rfc == null ? answer : answer + " (RFC 9113: " + rfc + ")";
        }
    }

    private static Arguments of(String section, String name, boolean preface, Script script, Expect expect) {
        return Arguments.of(section + " " + name, preface, script, expect);
    }

    private static Arguments of(String section, String name, Script script, Expect expect) {
        return of(section, name, true, script, expect);
    }

    private static byte[] settingsPayload(int id, long value) {
        return new byte[] {(byte) (id >>> 8), (byte) id, (byte) (value >>> 24), (byte) (value >>> 16),
            (byte) (value >>> 8), (byte) value};
    }

    /** HEADERS opening a POST on {@code stream}, its body still to come. */
    private static void openPost(RawHttp2Client c, int stream) throws IOException {
        c.frame(HEADERS, END_HEADERS, stream, requestBlock("POST", "/"));
    }

    private static byte[] bytes(int n) {
        return new byte[n];
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // 3.4 The connection preface
                of("3.4", "invalid connection preface", false,
                        c -> c.send("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".getBytes(StandardCharsets.US_ASCII)),
                        Expect.closed()),
                of("3.4", "a PING instead of the SETTINGS after the preface", false,
                        c -> c.send(RawHttp2Client.PREFACE).frame(PING, 0, 0, bytes(8)),
                        Expect.goAway(PROTOCOL_ERROR)),
                // 4.2 Frame size, 4.3 Header compression
                of("4.2", "DATA over SETTINGS_MAX_FRAME_SIZE", c -> {
                    openPost(c, 1);
                    c.frame(DATA, 0, 1, bytes(16_385));
                }, Expect.goAway(FRAME_SIZE_ERROR)),
                of("4.2", "HEADERS over SETTINGS_MAX_FRAME_SIZE",
                        c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1, bytes(16_385)),
                        Expect.goAway(FRAME_SIZE_ERROR)),
                of("4.3", "invalid header block (indexed field 0)",
                        c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1, new byte[] {(byte) 0x80}),
                        Expect.goAway(COMPRESSION_ERROR)),
                of("4.3", "header block index past the tables",
                        c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1, new byte[] {(byte) 0xFF, 0x7F}),
                        Expect.goAway(COMPRESSION_ERROR)),
                // 5.1 Stream states
                of("5.1", "DATA on an idle stream", c -> c.frame(DATA, 0, 1, bytes(4)),
                        Expect.goAway(PROTOCOL_ERROR)),
                of("5.1", "RST_STREAM on an idle stream", c -> c.rstStream(1, 8), Expect.goAway(PROTOCOL_ERROR)),
                of("5.1", "WINDOW_UPDATE on an idle stream", c -> c.windowUpdate(1, 100),
                        Expect.goAway(PROTOCOL_ERROR)),
                of("5.1", "CONTINUATION on an idle stream",
                        c -> c.frame(CONTINUATION, END_HEADERS, 1, requestBlock("GET", "/")),
                        Expect.goAway(PROTOCOL_ERROR)),
                of("5.1", "DATA on a half-closed (remote) stream", c -> {
                    c.frame(HEADERS, END_STREAM | END_HEADERS, 1, requestBlock("GET", "/slow?delayMs=2000"));
                    c.frame(DATA, 0, 1, bytes(4));
                }, Expect.reset(1, STREAM_CLOSED)),
                of("5.1", "HEADERS on a half-closed (remote) stream", c -> {
                    c.frame(HEADERS, END_STREAM | END_HEADERS, 1, requestBlock("GET", "/slow?delayMs=2000"));
                    c.frame(HEADERS, END_STREAM | END_HEADERS, 1, block("x-trailer", "1"));
                }, Expect.differs("stream error STREAM_CLOSED", Expect.reset(1, PROTOCOL_ERROR))),
                of("5.1", "DATA on a closed stream", c -> {
                    assertEquals(200, c.get(1, "/").status(1));
                    c.await(DATA, 1);
                    c.frame(DATA, 0, 1, bytes(4));
                }, Expect.reset(1, STREAM_CLOSED)),
                of("5.1.1", "an even stream id from the client",
                        c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 2, requestBlock("GET", "/")),
                        Expect.goAway(PROTOCOL_ERROR)),
                of("5.1.1", "a stream id lower than one already used", c -> {
                    c.frame(HEADERS, END_STREAM | END_HEADERS, 5, requestBlock("GET", "/"));
                    c.frame(HEADERS, END_STREAM | END_HEADERS, 3, requestBlock("GET", "/"));
                }, Expect.differs("connection error PROTOCOL_ERROR", Expect.reset(3, STREAM_CLOSED))),
                // 6.1 DATA, 6.2 HEADERS, 6.3 PRIORITY, 6.4 RST_STREAM
                of("6.1", "DATA on stream 0", c -> c.frame(DATA, 0, 0, bytes(4)), Expect.goAway(PROTOCOL_ERROR)),
                of("6.1", "DATA with a pad length past its payload", c -> {
                    openPost(c, 1);
                    c.frame(DATA, 0x8, 1, new byte[] {10, 0, 0});
                }, Expect.goAway(PROTOCOL_ERROR)),
                of("6.2", "HEADERS on stream 0",
                        c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 0, requestBlock("GET", "/")),
                        Expect.goAway(PROTOCOL_ERROR)),
                of("6.2", "HEADERS with a pad length past its payload",
                        c -> c.frame(HEADERS, END_STREAM | END_HEADERS | 0x8, 1, new byte[] {(byte) 200, 0, 0}),
                        Expect.goAway(PROTOCOL_ERROR)),
                of("6.3", "PRIORITY of 4 bytes", c -> c.frame(PRIORITY, 0, 1, bytes(4)),
                        Expect.reset(1, FRAME_SIZE_ERROR)),
                of("6.3", "PRIORITY on stream 0", c -> c.frame(PRIORITY, 0, 0, bytes(5)),
                        Expect.goAway(PROTOCOL_ERROR)),
                of("6.4", "RST_STREAM on stream 0", c -> c.rstStream(0, 8), Expect.goAway(PROTOCOL_ERROR)),
                of("6.4", "RST_STREAM of 3 bytes", c -> {
                    openPost(c, 1);
                    c.frame(RST_STREAM, 0, 1, bytes(3));
                }, Expect.goAway(FRAME_SIZE_ERROR)),
                // 6.5 SETTINGS
                of("6.5", "SETTINGS ACK with a payload", c -> c.frame(SETTINGS, 0x1, 0, bytes(6)),
                        Expect.goAway(FRAME_SIZE_ERROR)),
                of("6.5", "SETTINGS on a stream", c -> c.frame(SETTINGS, 0, 1, bytes(0)),
                        Expect.goAway(PROTOCOL_ERROR)),
                of("6.5", "SETTINGS of a length not a multiple of 6", c -> c.frame(SETTINGS, 0, 0, bytes(3)),
                        Expect.goAway(FRAME_SIZE_ERROR)),
                of("6.5.2", "SETTINGS_ENABLE_PUSH of 2", c -> c.frame(SETTINGS, 0, 0,
                        settingsPayload(SETTINGS_ENABLE_PUSH, 2)), Expect.goAway(PROTOCOL_ERROR)),
                of("6.5.2", "SETTINGS_INITIAL_WINDOW_SIZE of 2^31", c -> c.frame(SETTINGS, 0, 0,
                        settingsPayload(SETTINGS_INITIAL_WINDOW_SIZE, 1L << 31)), Expect.goAway(FLOW_CONTROL_ERROR)),
                of("6.5.2", "SETTINGS_MAX_FRAME_SIZE of 16383", c -> c.frame(SETTINGS, 0, 0,
                        settingsPayload(SETTINGS_MAX_FRAME_SIZE, 16_383)), Expect.goAway(PROTOCOL_ERROR)),
                of("6.5.2", "SETTINGS_MAX_FRAME_SIZE of 2^24", c -> c.frame(SETTINGS, 0, 0,
                        settingsPayload(SETTINGS_MAX_FRAME_SIZE, 1 << 24)), Expect.goAway(PROTOCOL_ERROR)),
                // 6.7 PING, 6.8 GOAWAY, 6.9 WINDOW_UPDATE
                of("6.7", "PING on a stream", c -> c.frame(PING, 0, 1, bytes(8)), Expect.goAway(PROTOCOL_ERROR)),
                of("6.7", "PING of 6 bytes", c -> c.frame(PING, 0, 0, bytes(6)), Expect.goAway(FRAME_SIZE_ERROR)),
                of("6.8", "GOAWAY on a stream", c -> c.frame(GOAWAY, 0, 1, bytes(8)), Expect.goAway(PROTOCOL_ERROR)),
                of("6.9", "WINDOW_UPDATE of 0 on the connection", c -> c.windowUpdate(0, 0),
                        Expect.goAway(PROTOCOL_ERROR)),
                of("6.9", "WINDOW_UPDATE of 0 on a stream", c -> {
                    openPost(c, 1);
                    c.windowUpdate(1, 0);
                }, Expect.reset(1, PROTOCOL_ERROR)),
                of("6.9", "WINDOW_UPDATE of 3 bytes", c -> c.frame(WINDOW_UPDATE, 0, 0, bytes(3)),
                        Expect.goAway(FRAME_SIZE_ERROR)),
                of("6.9.1", "the connection's window past 2^31-1", c -> {
                    c.windowUpdate(0, Integer.MAX_VALUE);
                    c.windowUpdate(0, Integer.MAX_VALUE);
                }, Expect.goAway(FLOW_CONTROL_ERROR)),
                of("6.9.1", "a stream's window past 2^31-1", c -> {
                    openPost(c, 1);
                    c.windowUpdate(1, Integer.MAX_VALUE);
                    c.windowUpdate(1, Integer.MAX_VALUE);
                }, Expect.reset(1, FLOW_CONTROL_ERROR)),
                of("6.9.2", "SETTINGS_INITIAL_WINDOW_SIZE overflowing an open stream's window", c -> {
                    openPost(c, 1);
                    c.windowUpdate(1, Integer.MAX_VALUE - 65_535);
                    c.frame(SETTINGS, 0, 0, settingsPayload(SETTINGS_INITIAL_WINDOW_SIZE, 65_536));
                }, Expect.differs("connection error FLOW_CONTROL_ERROR", Expect.reset(1, FLOW_CONTROL_ERROR))),
                // 6.10 CONTINUATION
                of("6.10", "a DATA frame inside a header block", c -> {
                    c.frame(HEADERS, END_STREAM, 1, requestBlock("GET", "/"));
                    c.frame(DATA, 0, 1, bytes(4));
                }, Expect.goAway(PROTOCOL_ERROR)),
                of("6.10", "a CONTINUATION of another stream", c -> {
                    c.frame(HEADERS, END_STREAM, 1, requestBlock("GET", "/"));
                    c.frame(CONTINUATION, END_HEADERS, 3, block("x-a", "1"));
                }, Expect.goAway(PROTOCOL_ERROR)),
                of("6.10", "a CONTINUATION after a complete block", c -> {
                    c.frame(HEADERS, 0, 1, requestBlock("POST", "/")).frame(CONTINUATION, END_HEADERS, 1, new byte[0]);
                    c.frame(CONTINUATION, END_HEADERS, 1, block("x-a", "1"));
                }, Expect.goAway(PROTOCOL_ERROR)),
                of("6.10", "a flood of empty CONTINUATION frames", c -> {
                    c.frame(HEADERS, END_STREAM, 1, requestBlock("GET", "/"));
                    ByteArrayOutputStream flood = new ByteArrayOutputStream();
                    for (int i = 0; i < 1000; i++) {
                        flood.writeBytes(RawHttp2Client.frameBytes(CONTINUATION, 0, 1, new byte[0]));
                    }
                    c.send(flood.toByteArray());
                }, Expect.goAway(ENHANCE_YOUR_CALM)),
                of("6.10", "CONTINUATION frames of 16 KiB past max-header-bytes", c -> {
                    c.frame(HEADERS, END_STREAM, 1, requestBlock("GET", "/"));
                    byte[] fragment = block("x-fill", "a".repeat(16_000));
                    for (int i = 0; i < 8; i++) {
                        c.frame(CONTINUATION, 0, 1, fragment);
                    }
                    // RFC 9113 names no code for a header section past the receiver's limit (10.5.1).
                }, Expect.goAway(PROTOCOL_ERROR)),
                // 8.1 Message framing, 8.2 fields, 8.3 pseudo-header fields, 8.4 server push
                of("8.1.1", "DATA longer than the content-length", c -> {
                    c.frame(HEADERS, END_HEADERS, 1, requestBlock("POST", "/", "content-length", "2"));
                    c.frame(DATA, END_STREAM, 1, bytes(4));
                }, Expect.reset(1, PROTOCOL_ERROR)),
                of("8.2", "an uppercase field name",
                        c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1, requestBlock("GET", "/", "X-Upper", "1")),
                        Expect.reset(1, PROTOCOL_ERROR)),
                of("8.2.2", "a connection-specific field (connection)", c -> c.frame(HEADERS,
                        END_STREAM | END_HEADERS, 1, requestBlock("GET", "/", "connection", "keep-alive")),
                        Expect.reset(1, PROTOCOL_ERROR)),
                of("8.2.2", "a connection-specific field (transfer-encoding)", c -> c.frame(HEADERS,
                        END_STREAM | END_HEADERS, 1, requestBlock("GET", "/", "transfer-encoding", "chunked")),
                        Expect.reset(1, PROTOCOL_ERROR)),
                of("8.2.2", "TE other than trailers", c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1,
                        requestBlock("GET", "/", "te", "gzip")), Expect.reset(1, PROTOCOL_ERROR)),
                of("8.3", "a pseudo-header field after a regular one", c -> c.frame(HEADERS,
                        END_STREAM | END_HEADERS, 1, block(":method", "GET", ":scheme", "http", "x-a", "1",
                                ":path", "/", ":authority", "a")), Expect.reset(1, PROTOCOL_ERROR)),
                of("8.3.1", "no :method", c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1,
                        block(":scheme", "http", ":path", "/", ":authority", "a")), Expect.reset(1, PROTOCOL_ERROR)),
                of("8.3.1", "no :path", c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1,
                        block(":method", "GET", ":scheme", "http", ":authority", "a")), Expect.reset(1, PROTOCOL_ERROR)),
                of("8.3.1", "an empty :path", c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1,
                        block(":method", "GET", ":scheme", "http", ":path", "", ":authority", "a")),
                        Expect.reset(1, PROTOCOL_ERROR)),
                of("8.3.1", "a second :method", c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1,
                        block(":method", "GET", ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a")),
                        Expect.reset(1, PROTOCOL_ERROR)),
                of("8.3.1", "an unknown pseudo-header field", c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1,
                        requestBlock("GET", "/", ":foo", "bar")), Expect.reset(1, PROTOCOL_ERROR)),
                of("8.3.2", ":status in a request", c -> c.frame(HEADERS, END_STREAM | END_HEADERS, 1,
                        requestBlock("GET", "/", ":status", "200")), Expect.reset(1, PROTOCOL_ERROR)),
                of("8.4", "PUSH_PROMISE from the client", c -> {
                    openPost(c, 1);
                    byte[] promised = {0, 0, 0, 2};
                    byte[] payload = new byte[4 + requestBlock("GET", "/").length];
                    System.arraycopy(promised, 0, payload, 0, 4);
                    System.arraycopy(requestBlock("GET", "/"), 0, payload, 4, payload.length - 4);
                    c.frame(PUSH_PROMISE, END_HEADERS, 1, payload);
                }, Expect.goAway(PROTOCOL_ERROR)),
                // 10.5 Denial-of-service: streams opened and reset at once ("rapid reset", CVE-2023-44487)
                of("10.5", "300 streams opened and reset at once", c -> {
                    ByteArrayOutputStream burst = new ByteArrayOutputStream();
                    for (int i = 0; i < 300; i++) {
                        int stream = 1 + 2 * i;
                        burst.writeBytes(RawHttp2Client.frameBytes(HEADERS, END_STREAM | END_HEADERS, stream,
                                requestBlock("GET", "/slow?delayMs=1000")));
                        burst.writeBytes(RawHttp2Client.frameBytes(RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8}));
                    }
                    c.send(burst.toByteArray());
                }, Expect.goAway(ENHANCE_YOUR_CALM)));
    }

    @ParameterizedTest(name = "{0}: {3}")
    @MethodSource("cases")
    void answersAsTheRfcSaysAndStaysUp(String name, boolean preface, Script script, Expect expect) throws Exception {
        try (RawHttp2Client c = preface ? RawHttp2Client.open(balancer.port(), 5000)
                : RawHttp2Client.connect(balancer.port(), 5000)) {
            try {
                script.run(c);
            } catch (IOException e) {
                // The balancer may close while the case still writes; what it answered is read below.
            }
            expect.check(c.awaitError(expect.stream()));
        }
        // The balancer goes on serving.
        try (RawHttp2Client c = RawHttp2Client.open(balancer.port(), 5000)) {
            assertEquals(200, c.get(1, "/").status(1), "a new connection after " + name);
        } catch (IOException e) {
            fail("a new connection after " + name + ": " + e);
        }
    }
}
