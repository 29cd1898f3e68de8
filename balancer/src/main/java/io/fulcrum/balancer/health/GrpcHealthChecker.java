package io.fulcrum.balancer.health;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.tls.BackendTls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The gRPC health checking protocol as an active check ({@code health.type: grpc}): each probe
 * opens an HTTP/2 connection (in clear text, or over TLS agreed by ALPN for {@code https://}
 * backends), calls {@code grpc.health.v1.Health/Check} with the configured service name, and counts
 * the backend up only when the call ends with {@code grpc-status} 0 and the answer is
 * {@code SERVING}. The two messages are encoded and read here (one string field out, one enum
 * field back), so the balancer carries no protobuf runtime. Thread-safe.
 */
public final class GrpcHealthChecker implements HealthChecker {
    private static final String PATH = "/grpc.health.v1.Health/Check";
    /** HealthCheckResponse.ServingStatus SERVING. */
    private static final int SERVING = 1;
    private static final int MAX_RESPONSE_BYTES = 4096;

    private final ProbeConnector connector;
    private final byte[] request;

    /**
     * @param service the service asked about ({@code ""}: the server as a whole)
     * @param timeout a probe that has not answered completely by then fails (connect included)
     */
    public GrpcHealthChecker(EventLoopGroup group, Class<? extends Channel> channelType, String service,
            Duration timeout, BackendTls tls) {
        this.request = request(requireNonNull(service, "service"));
        this.connector = new ProbeConnector(group, channelType, timeout, tls);
    }

    /** A gRPC message (uncompressed, length-prefixed) of HealthCheckRequest { string service = 1; }. */
    private static byte[] request(String service) {
        byte[] name = service.getBytes(StandardCharsets.UTF_8);
        if (name.length > 127) {
            throw new IllegalArgumentException("service: " + service + " (expected: at most 127 bytes)");
        }
        int size = name.length == 0 ? 0 : 2 + name.length;
        byte[] out = new byte[5 + size];
        out[4] = (byte) size;
        if (size > 0) {
            out[5] = 0x0A;
            out[6] = (byte) name.length;
            System.arraycopy(name, 0, out, 7, name.length);
        }
        return out;
    }

    @Override
    public CompletableFuture<HealthCheckResult> check(Backend backend) {
        return connector.probe(backend, ProbeConnector.Speak.HTTP2, (ch, http2, result) -> {
            Http2Headers headers = new DefaultHttp2Headers().method("POST").path(PATH)
                    .scheme(backend.config().tls() ? "https" : "http").authority(backend.config().authority())
                    .set("content-type", "application/grpc").set("te", "trailers")
                    .set("user-agent", "fulcrum-health");
            ProbeConnector.send(ch, new Answer(result), headers, request, result);
        });
    }

    /** Reads the call's answer on its stream: head, message, trailers. */
    private static final class Answer extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<HealthCheckResult> result;
        private ByteBuf message;
        private int httpStatus;

        Answer(CompletableFuture<HealthCheckResult> result) {
            this.result = result;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame h) {
                    Http2Headers headers = h.headers();
                    if (headers.status() != null) {
                        httpStatus = Integer.parseInt(headers.status().toString());
                    }
                    CharSequence grpcStatus = headers.get("grpc-status");
                    if (grpcStatus != null) {
                        finish(grpcStatus.toString());
                    } else if (h.isEndStream()) {
                        result.complete(HealthCheckResult.failed("HTTP " + httpStatus + " without grpc-status"));
                    }
                } else if (msg instanceof Http2DataFrame d) {
                    if (message == null) {
                        message = ctx.alloc().buffer();
                    }
                    if (message.readableBytes() + d.content().readableBytes() > MAX_RESPONSE_BYTES) {
                        result.complete(HealthCheckResult.failed("answer too large"));
                    } else {
                        message.writeBytes(d.content());
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void finish(String grpcStatus) {
            if (!"0".equals(grpcStatus)) {
                result.complete(new HealthCheckResult(false, httpStatus, Double.NaN, "grpc-status " + grpcStatus));
                return;
            }
            int serving = servingStatus();
            result.complete(new HealthCheckResult(serving == SERVING, httpStatus, Double.NaN,
                    serving == SERVING ? "SERVING" : "serving status " + serving));
        }

        /** The enum field 1 of HealthCheckResponse (0, UNKNOWN, when absent), or -1 when unreadable. */
        private int servingStatus() {
            if (message == null || message.readableBytes() < 5) {
                return -1;
            }
            ByteBuf m = message;
            m.skipBytes(5);
            int status = 0;
            while (m.readableBytes() >= 2) {
                int tag = m.readByte() & 0xFF;
                int value = m.readByte() & 0xFF;
                if (tag == 0x08) {
                    status = value;
                } else if ((tag & 7) == 2) {
                    m.skipBytes(Math.min(value, m.readableBytes()));
                }
            }
            return status;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            release();
            result.complete(HealthCheckResult.failed("stream closed before an answer"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            result.complete(HealthCheckResult.failed("probe failed: " + cause));
            ctx.close();
        }

        private void release() {
            if (message != null) {
                message.release();
                message = null;
            }
        }
    }
}
