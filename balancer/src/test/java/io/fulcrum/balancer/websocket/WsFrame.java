package io.fulcrum.balancer.websocket;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One WebSocket frame as RFC 6455 section 5.2 lays it out, encoded and read byte by byte, with the
 * bytes it was read from kept so that a test can compare what one side sent with what the other
 * received. Written here, not taken from a library, because the byte-level tests need frames no
 * library sends (masked with a chosen key, over the size limits, split at chosen places).
 *
 * @param fin the FIN bit
 * @param opcode the opcode (1 text, 2 binary, 0 continuation, 8 close, 9 ping, 10 pong)
 * @param maskKey the 4-byte masking key, or {@code null} for an unmasked frame
 * @param payload the payload, unmasked
 * @param wire the frame's bytes as sent or received
 */
record WsFrame(boolean fin, int opcode, byte[] maskKey, byte[] payload, byte[] wire) {
    static final int CONTINUATION = 0;
    static final int TEXT = 1;
    static final int BINARY = 2;
    static final int CLOSE = 8;
    static final int PING = 9;
    static final int PONG = 10;

    /** A frame's bytes: masked with {@code maskKey} when it is not {@code null} (client to server). */
    static WsFrame of(boolean fin, int opcode, byte[] payload, byte[] maskKey) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 14);
        out.write((fin ? 0x80 : 0) | opcode);
        int mask = maskKey == null ? 0 : 0x80;
        if (payload.length < 126) {
            out.write(mask | payload.length);
        } else if (payload.length < 65536) {
            out.write(mask | 126);
            out.write(payload.length >>> 8);
            out.write(payload.length);
        } else {
            out.write(mask | 127);
            long n = payload.length;
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.write((int) (n >>> shift));
            }
        }
        if (maskKey != null) {
            out.writeBytes(maskKey);
        }
        out.writeBytes(maskKey == null ? payload : masked(payload, maskKey));
        return new WsFrame(fin, opcode, maskKey, payload, out.toByteArray());
    }

    static WsFrame text(String text, byte[] maskKey) {
        return of(true, TEXT, text.getBytes(StandardCharsets.UTF_8), maskKey);
    }

    /** A close frame: the code, two bytes in network order, then the UTF-8 reason (section 5.5.1). */
    static WsFrame close(int code, String reason, byte[] maskKey) {
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        byte[] payload = new byte[2 + r.length];
        payload[0] = (byte) (code >>> 8);
        payload[1] = (byte) code;
        System.arraycopy(r, 0, payload, 2, r.length);
        return of(true, CLOSE, payload, maskKey);
    }

    /** Reads one frame; throws {@link EOFException} when the stream ends first. */
    static WsFrame read(InputStream in) throws IOException {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        int b0 = next(in, wire);
        int b1 = next(in, wire);
        long length = b1 & 0x7f;
        if (length == 126) {
            length = (next(in, wire) << 8) | next(in, wire);
        } else if (length == 127) {
            length = 0;
            for (int i = 0; i < 8; i++) {
                length = (length << 8) | next(in, wire);
            }
        }
        byte[] key = null;
        if ((b1 & 0x80) != 0) {
            key = new byte[4];
            for (int i = 0; i < 4; i++) {
                key[i] = (byte) next(in, wire);
            }
        }
        byte[] data = in.readNBytes(Math.toIntExact(length));
        if (data.length != length) {
            throw new EOFException("frame cut after " + data.length + " of " + length + " payload bytes");
        }
        wire.writeBytes(data);
        return new WsFrame((b0 & 0x80) != 0, b0 & 0x0f, key, key == null ? data : masked(data, key), wire.toByteArray());
    }

    private static int next(InputStream in, ByteArrayOutputStream wire) throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException("stream ended inside a frame header");
        }
        wire.write(b);
        return b;
    }

    /** XORs with the key (section 5.3); masking and unmasking are the same operation. */
    static byte[] masked(byte[] data, byte[] key) {
        byte[] out = new byte[data.length];
        for (int i = 0; i < data.length; i++) {
            out[i] = (byte) (data[i] ^ key[i & 3]);
        }
        return out;
    }

    String text() {
        return new String(payload, StandardCharsets.UTF_8);
    }

    /** A close frame's status code, or -1 when it has none. */
    int closeCode() {
        return payload.length < 2 ? -1 : ((payload[0] & 0xff) << 8) | (payload[1] & 0xff);
    }

    /** A close frame's reason. */
    String closeReason() {
        return payload.length < 2 ? "" : new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "frame(fin=" + fin + ", opcode=" + opcode + ", masked=" + (maskKey != null) + ", "
                + payload.length + " bytes)";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WsFrame f && Arrays.equals(wire, f.wire);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(wire);
    }
}
