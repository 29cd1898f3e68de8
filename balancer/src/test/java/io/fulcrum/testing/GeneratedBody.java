package io.fulcrum.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;
import java.util.zip.CheckedOutputStream;

/**
 * A response body of any length produced on the fly, chunk by chunk as the connection can take
 * it, so that a backend never holds it: byte {@code i} is a pattern of {@code i} that does not
 * repeat on chunk boundaries, so a test can check a body it received by its CRC32
 * ({@link #expectedCrc32}), and a client can send the same stream ({@link #writeTo}). Confined to the
 * event loop that writes it.
 */
public final class GeneratedBody implements ChunkedInput<ByteBuf> {
    static final int CHUNK = 16 * 1024;

    private final long length;
    private final byte[] scratch = new byte[CHUNK];
    private final AtomicLong produced;
    private long offset;

    /** @param produced counts the bytes handed to the connection */
    GeneratedBody(long length, AtomicLong produced) {
        this.length = length;
        this.produced = produced;
    }

    /** CRC32 of the first {@code n} bytes of the generated stream. */
    static long expectedCrc32(long n) {
        CheckedOutputStream crc = new CheckedOutputStream(OutputStream.nullOutputStream(), new CRC32());
        try {
            writeTo(crc, n);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a null stream does not throw
        }
        return crc.getChecksum().getValue();
    }

    /** Writes the first {@code n} bytes of the generated stream to {@code out}, e.g. a request body. */
    public static void writeTo(OutputStream out, long n) throws IOException {
        byte[] buf = new byte[CHUNK];
        long offset = 0;
        while (offset < n) {
            int len = (int) Math.min(buf.length, n - offset);
            fill(buf, len, offset);
            out.write(buf, 0, len);
            offset += len;
        }
    }

    /** Fills {@code buf[0..len)} with the stream's bytes from {@code offset}. */
    static void fill(byte[] buf, int len, long offset) {
        for (int i = 0; i < len; i++) {
            long p = offset + i;
            buf[i] = (byte) (p * 31 + (p >>> 13));
        }
    }

    @Override
    public boolean isEndOfInput() {
        return offset >= length;
    }

    @Override
    public void close() {
    }

    @Override
    @Deprecated
    public ByteBuf readChunk(ChannelHandlerContext ctx) {
        return readChunk(ctx.alloc());
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) {
        if (isEndOfInput()) {
            return null;
        }
        int len = (int) Math.min(scratch.length, length - offset);
        fill(scratch, len, offset);
        offset += len;
        produced.addAndGet(len);
        ByteBuf buf = allocator.buffer(len);
        buf.writeBytes(scratch, 0, len);
        return buf;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public long progress() {
        return offset;
    }
}
