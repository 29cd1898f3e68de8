package io.fulcrum.balancer.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.balancer.tls.TestCertificates;
import io.fulcrum.balancer.tls.TlsContexts;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cases of the Autobahn WebSocket suite that concern a proxy (RFC 6455), written as tests on
 * raw sockets so that every byte is under control: a client and a backend that are not Fulcrum's
 * exchange frames through the balancer, and each side checks that what it received is
 * byte-for-byte what the other sent. A proxy that tunnels bytes must pass everything unchanged:
 * fragments with control frames between them, every close code with its reason, frames at and
 * past the protocol's size limits, masking (client frames keep the client's key and masked
 * payload), and a half-closed tunnel, in which the side still open goes on receiving.
 */
class WebSocketConformanceTest {
    private static final byte[] KEY = {0x37, (byte) 0xfa, 0x21, 0x3d};

    @RegisterExtension
    final Fixtures fx = new Fixtures();

    /** What the backend's side of the tunnel read, one entry per read the test asked for. */
    private final BlockingQueue<byte[]> atBackend = new LinkedBlockingQueue<>();
    private RawWsBackend backend;

    @AfterEach
    void noBackendFailed() {
        if (backend != null) {
            assertEquals(List.of(), backend.failures(), "backend sessions");
        }
    }

    // ---- fragmentation (Autobahn 5.x) ----

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void fragmentsWithPingsBetweenThemPassUnchangedBothWays(boolean tls) throws Exception {
        List<WsFrame> fromClient = List.of(
                WsFrame.of(false, WsFrame.TEXT, bytes("Hello, "), KEY),
                WsFrame.of(true, WsFrame.PING, bytes("between 1"), new byte[] {1, 2, 3, 4}),
                WsFrame.of(false, WsFrame.CONTINUATION, bytes("frag"), new byte[] {5, 6, 7, 8}),
                WsFrame.of(true, WsFrame.PING, new byte[125], new byte[] {9, 10, 11, 12}),
                WsFrame.of(true, WsFrame.CONTINUATION, bytes("ment!"), new byte[] {13, 14, 15, 16}));
        List<WsFrame> fromBackend = List.of(
                WsFrame.of(true, WsFrame.PONG, bytes("between 1"), null),
                WsFrame.of(false, WsFrame.BINARY, new byte[] {1, 2, 3}, null),
                WsFrame.of(true, WsFrame.PING, bytes("server ping"), null),
                WsFrame.of(false, WsFrame.CONTINUATION, new byte[] {4, 5}, null),
                WsFrame.of(true, WsFrame.PONG, new byte[125], null),
                WsFrame.of(true, WsFrame.CONTINUATION, new byte[] {6}, null));
        try (RawWsClient client = tunnel(tls, (in, out, socket) -> {
            for (int i = 0; i < fromClient.size(); i++) {
                atBackend.add(WsFrame.read(in).wire());
            }
            for (WsFrame f : fromBackend) {
                out.write(f.wire());
            }
            out.flush();
            awaitEnd(in);
        })) {
            // One write per frame: the balancer sees them in as many reads as the kernel makes.
            for (WsFrame f : fromClient) {
                client.send(f);
            }
            for (WsFrame sent : fromClient) {
                assertArrayEquals(sent.wire(), nextAtBackend(), sent + " reached the backend unchanged");
            }
            for (WsFrame sent : fromBackend) {
                assertArrayEquals(sent.wire(), client.readFrame().wire(), sent + " reached the client unchanged");
            }
        }
    }

    // ---- close codes (Autobahn 7.x) ----

    /**
     * Every code a close frame can carry: those RFC 6455 section 7.4.1 defines (1004, 1005, 1006
     * and 1015 must not be sent, and a proxy passes them all the same), the ranges of section
     * 7.4.2 at their edges, and values outside every range.
     */
    static Stream<Integer> closeCodes() {
        return Stream.concat(IntStream.rangeClosed(1000, 1015).boxed(),
                Stream.of(0, 999, 1016, 2999, 3000, 3999, 4000, 4999, 5000, 65535));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("closeCodes")
    void aCloseCodeAndItsReasonPassUnchangedBothWays(int code) throws Exception {
        WsFrame fromClient = WsFrame.close(code, "client says " + code + " \u2713", KEY);
        // The longest reason a close frame can hold: 125 bytes of payload, 2 of them the code.
        String tail = "server " + code;
        WsFrame fromBackend = WsFrame.close(code, "x".repeat(123 - tail.length()) + tail, null);
        try (RawWsClient client = tunnel(false, (in, out, socket) -> {
            atBackend.add(WsFrame.read(in).wire());
            out.write(fromBackend.wire());
            out.flush();
        })) {
            client.send(fromClient);
            assertArrayEquals(fromClient.wire(), nextAtBackend(), "the client's close");
            WsFrame got = client.readFrame();
            assertEquals(125, got.payload().length);
            assertArrayEquals(fromBackend.wire(), got.wire(), "the backend's close");
            assertEquals(code, got.closeCode());
            // The backend closed its socket after its close frame (section 7.1.1): so does the tunnel.
            assertEquals(0, client.readToEnd().length);
        }
    }

    // ---- sizes and masking (Autobahn 1.x, 2.x, 9.x) ----

    /**
     * Frames at and past the limits of RFC 6455 section 5.2 and 5.5, and masked and unmasked as
     * the protocol requires and as it forbids; each is sent whole by the client (masked unless
     * named otherwise) and, unmasked, by the backend. The balancer reads none of them: each must
     * arrive byte for byte.
     */
    static Stream<Arguments> frames() {
        List<Arguments> cases = new ArrayList<>();
        for (int length : new int[] {0, 125, 126, 65535, 65536, 1024 * 1024 + 1}) {
            cases.add(Arguments.of("binary, " + length + " bytes", WsFrame.of(true, WsFrame.BINARY, pattern(length), KEY)
                    .wire(), WsFrame.of(true, WsFrame.BINARY, pattern(length), null).wire()));
        }
        cases.add(Arguments.of("ping at the control frame limit (125 bytes)",
                WsFrame.of(true, WsFrame.PING, pattern(125), KEY).wire(),
                WsFrame.of(true, WsFrame.PING, pattern(125), null).wire()));
        cases.add(Arguments.of("ping past the control frame limit (126 bytes)",
                WsFrame.of(true, WsFrame.PING, pattern(126), KEY).wire(),
                WsFrame.of(true, WsFrame.PING, pattern(126), null).wire()));
        cases.add(Arguments.of("a fragmented ping (FIN clear)",
                WsFrame.of(false, WsFrame.PING, pattern(5), KEY).wire(),
                WsFrame.of(false, WsFrame.PING, pattern(5), null).wire()));
        cases.add(Arguments.of("reserved bits and a reserved opcode",
                withFirstByte(WsFrame.of(true, 0x3, pattern(10), KEY).wire(), 0xf3),
                withFirstByte(WsFrame.of(true, 0xb, pattern(10), null).wire(), 0x7b)));
        cases.add(Arguments.of("a 64-bit length of 2^63 - 1 (the largest allowed), its first 64 KiB",
                hugeFrameStart(Long.MAX_VALUE, KEY), hugeFrameStart(Long.MAX_VALUE, null)));
        cases.add(Arguments.of("a 64-bit length with its top bit set (not allowed), its first 64 KiB",
                hugeFrameStart(-1L, KEY), hugeFrameStart(-1L, null)));
        cases.add(Arguments.of("masking key 00 00 00 00 and FF FF FF FF",
                WsFrame.of(true, WsFrame.TEXT, bytes("zero key"), new byte[4]).wire(),
                WsFrame.of(true, WsFrame.TEXT, bytes("ones"), new byte[] {-1, -1, -1, -1}).wire()));
        cases.add(Arguments.of("an unmasked client frame and a masked server frame (both not allowed)",
                WsFrame.of(true, WsFrame.TEXT, bytes("unmasked from the client"), null).wire(),
                WsFrame.of(true, WsFrame.TEXT, bytes("masked from the server"), KEY).wire()));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("frames")
    void aFramePassesUnchangedBothWays(String name, byte[] fromClient, byte[] fromBackend) throws Exception {
        try (RawWsClient client = tunnel(false, (in, out, socket) -> {
            atBackend.add(in.readNBytes(fromClient.length));
            out.write(fromBackend);
            out.flush();
            awaitEnd(in);
        })) {
            client.send(fromClient);
            assertArrayEquals(fromClient, nextAtBackend(), "what the backend received");
            assertArrayEquals(fromBackend, client.read(fromBackend.length), "what the client received");
        }
    }

    // ---- half-closed tunnels (RFC 6455 section 7.1.1: the server closes the TCP connection first) ----

    @Test
    void aClientThatShutsItsWriteSideStillReceivesWhatTheBackendSendsAfter() throws Exception {
        List<WsFrame> after = List.of(WsFrame.text("still here", null), WsFrame.of(true, WsFrame.BINARY,
                pattern(200_000), null), WsFrame.close(1000, "bye too", null));
        try (RawWsClient client = halfClosingClient(false, after)) {
            for (WsFrame sent : after) {
                assertArrayEquals(sent.wire(), client.readFrame().wire(), sent + " after the client's end");
            }
            assertEquals(0, client.readToEnd().length, "then the tunnel closes");
        }
    }

    /**
     * Over TLS a client half-closes with a {@code close_notify} before its FIN. TLS 1.3 lets the
     * other direction go on (RFC 8446 section 6.1), but the OpenSSL engine the balancer uses (where
     * netty-tcnative loads) ends the session both ways on it, as TLS 1.2 had it: the backend still
     * gets all the client sent and its end, and the client gets the end of the connection. With the
     * JDK's engine the rest arrives, as over cleartext.
     */
    @Test
    void overTlsAClientsCloseNotifyEndsItsWayInWithAllItSentAndTheWayOutWithTheEngine() throws Exception {
        List<WsFrame> after = List.of(WsFrame.text("still here", null), WsFrame.close(1000, "bye too", null));
        try (RawWsClient client = halfClosingClient(true, after)) {
            if (TlsContexts.provider() == SslProvider.OPENSSL) {
                assertEquals(0, client.readToEnd().length, "OpenSSL: the session ended both ways");
            } else {
                for (WsFrame sent : after) {
                    assertArrayEquals(sent.wire(), client.readFrame().wire(), sent + " after the client's end");
                }
            }
        }
    }

    /**
     * A client that sends a frame and a close, then shuts down its output; the backend checks it
     * got both and then the end of input before it sends {@code after}, then closes.
     */
    private RawWsClient halfClosingClient(boolean tls, List<WsFrame> after) throws Exception {
        WsFrame last = WsFrame.text("last words", KEY);
        WsFrame close = WsFrame.close(1000, "bye", KEY);
        RawWsClient client = tunnel(tls, (in, out, socket) -> {
            atBackend.add(WsFrame.read(in).wire());
            atBackend.add(WsFrame.read(in).wire());
            // The client's end of input reaches the backend as its own, after the frames.
            atBackend.add(new byte[] {(byte) in.read()});
            for (WsFrame f : after) {
                out.write(f.wire());
            }
            out.flush();
        });
        client.send(last);
        client.send(close);
        client.shutdownOutput();
        assertArrayEquals(last.wire(), nextAtBackend());
        assertArrayEquals(close.wire(), nextAtBackend());
        assertArrayEquals(new byte[] {-1}, nextAtBackend(), "the backend saw the client's end of input");
        return client;
    }

    @ParameterizedTest(name = "tls={0}")
    @ValueSource(booleans = {false, true})
    void aBackendThatShutsItsWriteSideStillReceivesWhatTheClientSendsAfter(boolean tls) throws Exception {
        WsFrame close = WsFrame.close(1001, "going away", null);
        WsFrame reply = WsFrame.close(1001, "ok", KEY);
        try (RawWsClient client = tunnel(tls, (in, out, socket) -> {
            out.write(close.wire());
            out.flush();
            socket.shutdownOutput();
            atBackend.add(WsFrame.read(in).wire());
            atBackend.add(new byte[] {(byte) in.read()});
        })) {
            assertArrayEquals(close.wire(), client.readFrame().wire());
            assertEquals(0, client.readToEnd().length, "the backend's end of output reaches the client");
            client.send(reply);
            assertArrayEquals(reply.wire(), nextAtBackend(), "sent after the backend's end of output");
            client.shutdownOutput();
            assertArrayEquals(new byte[] {-1}, nextAtBackend(), "then the client's end");
        }
    }

    // ---- helpers ----

    /** The session of a raw backend once it has answered the handshake with its 101. */
    private interface Tunnel {
        void serve(InputStream in, OutputStream out, Socket socket) throws Exception;
    }

    /** A balancer in front of a raw backend running {@code session}, and a client whose handshake it answered. */
    private RawWsClient tunnel(boolean tls, Tunnel session) throws Exception {
        backend = fx.closeAfter(RawWsBackend.start((head, in, out, socket) -> {
            out.write(RawWsBackend.switching(head));
            out.flush();
            session.serve(in, out, socket);
        }));
        BalancerYaml yaml = BalancerYaml.create().backend("ws", backend.port())
                // The body limit is for HTTP bodies: a tunnel's bytes are not a body.
                .merge("limits: { max-body-bytes: 1048576 }");
        SSLContext clientTls = null;
        if (tls) {
            yaml.merge(TestCertificates.tlsSection(fx.dir()));
            clientTls = TestCertificates.trustingTestCa();
        }
        Balancer b = fx.balancer(yaml);
        RawWsClient client = RawWsClient.connect(tls ? b.tlsPort() : b.port(), clientTls);
        String head = client.upgrade("/ws");
        assertTrue(head.startsWith("HTTP/1.1 101 "), head);
        assertTrue(head.contains("Sec-WebSocket-Accept: " + RawWsBackend.accept(RawWsClient.KEY) + "\r\n"), head);
        return client;
    }

    private byte[] nextAtBackend() throws InterruptedException {
        byte[] b = atBackend.poll(20, TimeUnit.SECONDS);
        if (b == null) {
            throw new AssertionError("the backend received nothing within 20 s");
        }
        return b;
    }

    /** Holds the backend's socket open until the client's side ends. */
    private static void awaitEnd(InputStream in) throws IOException {
        while (in.read() >= 0) {
            // Nothing more is expected; whatever comes is dropped.
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] pattern(int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        return b;
    }

    private static byte[] withFirstByte(byte[] frame, int first) {
        frame[0] = (byte) first;
        return frame;
    }

    /** The header of a frame announcing {@code length} bytes (64-bit form), then 64 KiB of its payload. */
    private static byte[] hugeFrameStart(long length, byte[] maskKey) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x82);
        out.write((maskKey == null ? 0 : 0x80) | 127);
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (length >>> shift));
        }
        if (maskKey != null) {
            out.writeBytes(maskKey);
        }
        out.writeBytes(pattern(65536));
        return out.toByteArray();
    }
}
