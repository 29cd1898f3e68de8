package io.fulcrum.balancer.grpc;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.io.IOException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A grpc-java server of {@code grpc.testing.SimpleService} on a loopback port, with the standard
 * health service: a unary call answers with the server's name (after a delay, or never while
 * hung, or with a set error status), a server-streaming call sends as many numbered messages as the request asks, a bidi call
 * echoes each message; it remembers the deadline the last call came with.
 */
final class GrpcBackend implements AutoCloseable {
    static final String SERVICE = "grpc.testing.SimpleService";

    final String name;
    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();
    private final ScheduledExecutorService timer;
    volatile long delayMillis;
    volatile boolean hung;
    /** When set, a unary call ends with this status and no message (a trailers-only response). */
    volatile Status failWith;
    /** Bytes of padding after each streamed message's number ({@code name:n|...}), or 0 for none. */
    volatile int padding;
    /** Messages of server streams sent so far. */
    final AtomicInteger streamed = new AtomicInteger();
    /** A server stream stopped sending because its transport was not ready (flow control held it back). */
    volatile boolean heldBack;
    /** What was left of the last call's deadline when it arrived (its grpc-timeout), or 0. */
    volatile long lastTimeoutNanos;

    GrpcBackend(String name, ScheduledExecutorService timer) throws IOException {
        this.name = name;
        this.timer = timer;
        ServerInterceptor timeouts = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                return next.startCall(call, headers);
            }
        };
        this.server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                .addService(ServerInterceptors.intercept(new Service(), timeouts))
                .addService(health.getHealthService())
                .build().start();
        health.setStatus(SERVICE, HealthCheckResponse.ServingStatus.SERVING);
    }

    int port() {
        return server.getPort();
    }

    void serving(boolean on) {
        health.setStatus(SERVICE, on ? HealthCheckResponse.ServingStatus.SERVING
                : HealthCheckResponse.ServingStatus.NOT_SERVING);
    }

    /** Stops gracefully: a GOAWAY on each connection, open calls finish, new ones are refused. */
    void shutdown() {
        server.shutdown();
    }

    /** Stops at once: open calls end, connections close. */
    void kill() {
        server.shutdownNow();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }

    private static SimpleResponse reply(String text) {
        return SimpleResponse.newBuilder().setResponseMessage(text).build();
    }

    private final class Service extends SimpleServiceGrpc.SimpleServiceImplBase {
        @Override
        public void unaryRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
            Deadline deadline = Context.current().getDeadline();
            if (deadline != null) {
                lastTimeoutNanos = deadline.timeRemaining(TimeUnit.NANOSECONDS);
            }
            if (hung) {
                return;
            }
            Status failure = failWith;
            if (failure != null) {
                out.onError(failure.asRuntimeException());
                return;
            }
            long delay = delayMillis;
            Runnable answer = () -> {
                out.onNext(reply(name));
                out.onCompleted();
            };
            if (delay > 0) {
                timer.schedule(answer, delay, TimeUnit.MILLISECONDS);
            } else {
                answer.run();
            }
        }

        @Override
        public void serverStreamingRpc(SimpleRequest request, StreamObserver<SimpleResponse> out) {
            ServerCallStreamObserver<SimpleResponse> stream = (ServerCallStreamObserver<SimpleResponse>) out;
            int count = Integer.parseInt(request.getRequestMessage());
            int[] next = {0};
            // Sends only while the transport is ready: the balancer's flow control reaches back here.
            stream.setOnReadyHandler(() -> {
                String pad = padding > 0 ? "|" + "x".repeat(padding) : "";
                while (stream.isReady() && next[0] < count) {
                    stream.onNext(reply(name + ":" + next[0]++ + pad));
                    streamed.incrementAndGet();
                }
                if (next[0] < count) {
                    heldBack = true;
                }
                if (next[0] == count) {
                    next[0]++;
                    stream.onCompleted();
                }
            });
        }

        @Override
        public StreamObserver<SimpleRequest> bidiStreamingRpc(StreamObserver<SimpleResponse> out) {
            return new StreamObserver<>() {
                @Override
                public void onNext(SimpleRequest value) {
                    out.onNext(reply(value.getRequestMessage()));
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    out.onCompleted();
                }
            };
        }
    }
}
