package io.fulcrum.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A raw-socket HTTP/2 client (h2c with prior knowledge) for tests that must send exact frames,
 * valid or not, as h2spec does: a frame writer, a small HPACK writer (literal fields without
 * indexing, so any name, uppercase included, can be sent) and a frame reader. It checks nothing
 * itself and answers nothing (no SETTINGS ACK, no PING ACK) unless asked. Reads time out after
 * the socket timeout given at connect. Not thread safe.
 */
public final class RawHttp2Client implements AutoCloseable {
    public static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    public static final int DATA = 0x0;
    public static final int HEADERS = 0x1;
    public static final int PRIORITY = 0x2;
    public static final int RST_STREAM = 0x3;
    public static final int SETTINGS = 0x4;
    public static final int PUSH_PROMISE = 0x5;
    public static final int PING = 0x6;
    public static final int GOAWAY = 0x7;
    public static final int WINDOW_UPDATE = 0x8;
    public static final int CONTINUATION = 0x9;

    public static final int END_STREAM = 0x1;
    public static final int ACK = 0x1;
    public static final int END_HEADERS = 0x4;

    public static final int SETTINGS_ENABLE_PUSH = 0x2;
    public static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
    public static final int SETTINGS_MAX_FRAME_SIZE = 0x5;

    /** RFC 9113 section 7 error codes. */
    public static final long NO_ERROR = 0x0;
    public static final long PROTOCOL_ERROR = 0x1;
    public static final long FLOW_CONTROL_ERROR = 0x3;
    public static final long STREAM_CLOSED = 0x5;
    public static final long FRAME_SIZE_ERROR = 0x6;
    public static final long COMPRESSION_ERROR = 0x9;
    public static final long ENHANCE_YOUR_CALM = 0xb;

    /** One frame received. */
    public record Frame(int type, int flags, int streamId, byte[] payload) {
        /** A GOAWAY's or RST_STREAM's error code. */
        public long errorCode() {
            ByteBuffer b = ByteBuffer.wrap(payload);
            return Integer.toUnsignedLong(type == GOAWAY ? b.getInt(4) : b.getInt(0));
        }

        /** A GOAWAY's last stream id. */
        public int lastStreamId() {
            return ByteBuffer.wrap(payload).getInt(0) & 0x7FFF_FFFF;
        }

        public boolean has(int flag) {
            return (flags & flag) != 0;
        }

        @Override
        public String toString() {
            return "Frame[type=" + type + ", flags=" + flags + ", stream=" + streamId + ", length=" + payload.length
                    + (type == GOAWAY || type == RST_STREAM ? ", error=" + errorCode() : "") + "]";
        }
    }

    /** How the connection ended, or what came instead, as far as a test cares. */
    public record Outcome(Frame goAway, Frame reset, boolean closed) {
        @Override
        public String toString() {
            return goAway != null ? "GOAWAY " + goAway.errorCode() : reset != null ? "RST_STREAM " + reset.errorCode()
                    : closed ? "closed" : "nothing";
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    /** The connection's HPACK decoder: its dynamic table lives as long as the connection. */
    /** How long a read, or a wait for a frame among others, may take in all. */
    private final long timeoutNanos;
    private final DefaultHttp2HeadersDecoder hpack = new DefaultHttp2HeadersDecoder(false);

    private RawHttp2Client(Socket socket, int timeoutMillis) throws IOException {
        this.socket = socket;
        this.timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Connects to 127.0.0.1:{@code port} and sends nothing yet. */
    public static RawHttp2Client connect(int port, int timeoutMillis) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(timeoutMillis);
        s.setTcpNoDelay(true);
        return new RawHttp2Client(s, timeoutMillis);
    }

    /** Connects, sends the preface and an empty SETTINGS, and acknowledges the server's SETTINGS. */
    public static RawHttp2Client open(int port, int timeoutMillis) throws IOException {
        RawHttp2Client c = connect(port, timeoutMillis);
        c.send(PREFACE);
        c.settings();
        Frame f;
        while ((f = c.readFrame()) != null) {
            if (f.type() == SETTINGS && !f.has(ACK)) {
                c.frame(SETTINGS, ACK, 0, new byte[0]);
                return c;
            }
        }
        throw new EOFException("closed before the server's SETTINGS");
    }

    public OutputStream output() {
        return out;
    }

    /** The fields of a response HEADERS frame (END_HEADERS set, no padding or priority). */
    public Http2Headers headers(Frame headers) throws IOException {
        ByteBuf block = Unpooled.wrappedBuffer(headers.payload());
        try {
            return hpack.decodeHeaders(headers.streamId(), block);
        } catch (Http2Exception e) {
            throw new IOException("bad header block from the server", e);
        } finally {
            block.release();
        }
    }

    /** The {@code :status} of the response on {@code streamId}, reading frames until its HEADERS; -1 if the connection ends. */
    public int status(int streamId) throws IOException {
        Frame f = await(HEADERS, streamId);
        return f == null ? -1 : Integer.parseInt(headers(f).status().toString());
    }

    public RawHttp2Client send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** Writes one frame with the given header fields and payload. */
    public RawHttp2Client frame(int type, int flags, int streamId, byte[] payload) throws IOException {
        return send(frameBytes(type, flags, streamId, payload));
    }

    /** The bytes of one frame. */
    public static byte[] frameBytes(int type, int flags, int streamId, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(9 + payload.length);
        b.put((byte) (payload.length >>> 16)).put((byte) (payload.length >>> 8)).put((byte) payload.length);
        b.put((byte) type).put((byte) flags).putInt(streamId).put(payload);
        return b.array();
    }

    /** A SETTINGS frame of (identifier, value) pairs. */
    public RawHttp2Client settings(long... idValues) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(idValues.length / 2 * 6);
        for (int i = 0; i < idValues.length; i += 2) {
            b.putShort((short) idValues[i]).putInt((int) idValues[i + 1]);
        }
        return frame(SETTINGS, 0, 0, b.array());
    }

    public RawHttp2Client windowUpdate(int streamId, long increment) throws IOException {
        return frame(WINDOW_UPDATE, 0, streamId, ByteBuffer.allocate(4).putInt((int) increment).array());
    }

    public RawHttp2Client rstStream(int streamId, long errorCode) throws IOException {
        return frame(RST_STREAM, 0, streamId, ByteBuffer.allocate(4).putInt((int) errorCode).array());
    }

    /** A complete GET for {@code path} on {@code streamId}, END_STREAM and END_HEADERS set. */
    public RawHttp2Client get(int streamId, String path) throws IOException {
        return frame(HEADERS, END_STREAM | END_HEADERS, streamId, requestBlock("GET", path));
    }

    /** The header block of a request: the four pseudo-header fields, then {@code more} name/value pairs. */
    public static byte[] requestBlock(String method, String path, String... more) {
        String[] fields = new String[8 + more.length];
        fields[0] = ":method";
        fields[1] = method;
        fields[2] = ":scheme";
        fields[3] = "http";
        fields[4] = ":path";
        fields[5] = path;
        fields[6] = ":authority";
        fields[7] = "127.0.0.1";
        System.arraycopy(more, 0, fields, 8, more.length);
        return block(fields);
    }

    /**
     * A header block of name/value pairs, in this order, each a literal field without indexing
     * and with a new name (RFC 7541 section 6.2.2), not Huffman-coded: names are sent as given.
     */
    public static byte[] block(String... nameValues) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < nameValues.length; i += 2) {
            b.write(0x00);
            string(b, nameValues[i]);
            string(b, nameValues[i + 1]);
        }
        return b.toByteArray();
    }

    private static void string(ByteArrayOutputStream b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
        integer(b, bytes.length, 7, 0);
        b.writeBytes(bytes);
    }

    /** An HPACK integer with an {@code prefixBits}-bit prefix (RFC 7541 section 5.1). */
    private static void integer(ByteArrayOutputStream b, int value, int prefixBits, int firstByteFlags) {
        int max = (1 << prefixBits) - 1;
        if (value < max) {
            b.write(firstByteFlags | value);
            return;
        }
        b.write(firstByteFlags | max);
        value -= max;
        while (value >= 128) {
            b.write((value & 0x7F) | 0x80);
            value >>>= 7;
        }
        b.write(value);
    }

    /**
     * The next frame, or {@code null} at end of stream; a {@link SocketTimeoutException} once
     * {@code deadline} (a {@link System#nanoTime()}) has passed, however many frames came before.
     */
    private Frame readFrame(long deadline) throws IOException {
        if (System.nanoTime() - deadline > 0) {
            throw new SocketTimeoutException("no awaited frame in time");
        }
        return readFrame();
    }

    /** The next frame, or {@code null} at end of stream (or reset). */
    public Frame readFrame() throws IOException {
        byte[] header = new byte[9];
        try {
            in.readFully(header);
            int length = ((header[0] & 0xFF) << 16) | ((header[1] & 0xFF) << 8) | (header[2] & 0xFF);
            byte[] payload = new byte[length];
            in.readFully(payload);
            int stream = ByteBuffer.wrap(header, 5, 4).getInt() & 0x7FFF_FFFF;
            return new Frame(header[3] & 0xFF, header[4] & 0xFF, stream, payload);
        } catch (EOFException | SocketException e) {
            return null;
        }
    }

    /**
     * Reads until a GOAWAY, a RST_STREAM of {@code streamId} (0: none awaited), or the end of the
     * connection, and says which came. A socket timeout first is an {@link SocketTimeoutException}.
     */
    public Outcome awaitError(int streamId) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        Frame f;
        while ((f = readFrame(deadline)) != null) {
            if (f.type() == GOAWAY) {
                return new Outcome(f, null, false);
            }
            if (f.type() == RST_STREAM && streamId != 0 && f.streamId() == streamId) {
                return new Outcome(null, f, false);
            }
        }
        return new Outcome(null, null, true);
    }

    /** Reads frames until one of {@code type} on {@code streamId}; {@code null} when the connection ends first. */
    public Frame await(int type, int streamId) throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        Frame f;
        while ((f = readFrame(deadline)) != null) {
            if (f.type() == type && f.streamId() == streamId) {
                return f;
            }
        }
        return null;
    }

    /** Whether the peer closed the connection (reading and dropping frames until then), false on timeout. */
    public boolean isClosedByPeer() throws IOException {
        long deadline = System.nanoTime() + timeoutNanos;
        try {
            while (readFrame(deadline) != null) {
                // drop
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
