package io.fulcrum.balancer.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.common.util.concurrent.ListenableFuture;
import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.protobuf.SimpleRequest;
import io.grpc.testing.protobuf.SimpleResponse;
import io.grpc.testing.protobuf.SimpleServiceGrpc;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * gRPC through the balancer, grpc-java on both sides: one client channel (one HTTP/2 connection to
 * the balancer) and three grpc-java servers behind it spoken to with {@code protocol: h2c}. Each
 * call is balanced on its own; a slow backend gets fewer; a backend killed or sending GOAWAY under
 * load fails no unary call; streams keep order and flow control; a deadline is honoured and
 * passed on; a {@code NOT_SERVING} health answer takes a backend out; each call's
 * {@code grpc-status} is in the access log and the meters.
 */
class GrpcProofsTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<GrpcBackend> backends = new ArrayList<>();
    private ManagedChannel channel;

    @BeforeEach
    void startBackends() throws Exception {
        for (String name : List.of("a", "b", "c")) {
            backends.add(new GrpcBackend(name, timer));
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        for (GrpcBackend b : backends) {
            b.close();
        }
        timer.shutdownNow();
    }

    private BalancerYaml yaml() {
        BalancerYaml yaml = BalancerYaml.create().set("protocol", "h2c").set("routing.policy", "least-busy")
                .set("routing.slow-start", "0s").set("retry.attempts", "2").set("retry.budget-percent", "100")
                .set("timeouts.connect", "500ms").set("timeouts.response", "10s");
        for (GrpcBackend b : backends) {
            yaml.backend(b.name, b.port());
        }
        return yaml;
    }

    private SimpleServiceGrpc.SimpleServiceFutureStub connect(Balancer balancer) {
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", balancer.port()).usePlaintext().build();
        return SimpleServiceGrpc.newFutureStub(channel);
    }

    private static SimpleRequest request(String text) {
        return SimpleRequest.newBuilder().setRequestMessage(text).build();
    }

    /** {@code calls} unary calls, {@code concurrent} at a time; the answers by backend name, failures under "failed". */
    private static Map<String, Integer> unary(SimpleServiceGrpc.SimpleServiceFutureStub stub, int calls,
            int concurrent, Runnable afterEach) throws InterruptedException {
        Map<String, Integer> by = new ConcurrentHashMap<>();
        Semaphore slots = new Semaphore(concurrent);
        CountDownLatch done = new CountDownLatch(calls);
        for (int i = 0; i < calls; i++) {
            slots.acquire();
            ListenableFuture<SimpleResponse> call = stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                    .unaryRpc(request("u" + i));
            call.addListener(() -> {
                String key;
                try {
                    key = call.get().getResponseMessage();
                } catch (Exception e) {
                    key = "failed";
                }
                by.merge(key, 1, Integer::sum);
                slots.release();
                done.countDown();
                afterEach.run();
            }, Runnable::run);
        }
        assertTrue(done.await(60, TimeUnit.SECONDS), "calls did not end");
        return by;
    }

    @Test
    void oneClientConnectionIsSpreadOverEveryBackend() throws Exception {
        Balancer balancer = fx.balancer(yaml());
        SimpleServiceGrpc.SimpleServiceFutureStub stub = connect(balancer);
        // Warm first: while the process compiles, answers take turns being slow, and the spread
        // measured is the compiler's, not the balancer's.
        assertEquals(null, unary(stub, 3000, 32, () -> { }).get("failed"));
        Map<String, Integer> by = unary(stub, 3000, 32, () -> { });
        assertEquals(null, by.get("failed"), by.toString());
        for (GrpcBackend b : backends) {
            int n = by.getOrDefault(b.name, 0);
            assertTrue(n >= 750 && n <= 1260, "backend " + b.name + " got " + n + " of 3000: " + by);
        }
    }

    @Test
    void aSlowBackendGetsFewerCalls() throws Exception {
        Balancer balancer = fx.balancer(yaml());
        SimpleServiceGrpc.SimpleServiceFutureStub stub = connect(balancer);
        // Warm first, all three alike: a cold process answers every call slowly, and then a slow
        // backend is not slow beside its peers.
        assertEquals(null, unary(stub, 3000, 32, () -> { }).get("failed"));
        backends.get(2).delayMillis = 200;
        int calls = 3000;
        Map<String, Integer> by = unary(stub, calls, 32, () -> { });
        assertEquals(null, by.get("failed"), by.toString());
        // Each call the slow backend takes lasts at least its 200 ms: with fewer than 1 % of the
        // calls there, the 99th percentile of all calls is one a fast backend answered.
        assertTrue(by.getOrDefault("c", 0) < calls / 100, "the slow backend got under 1 % of the calls: " + by);
    }

    @Test
    void aBackendKilledUnderLoadFailsNoUnaryCall() throws Exception {
        Balancer balancer = fx.balancer(yaml());
        SimpleServiceGrpc.SimpleServiceFutureStub stub = connect(balancer);
        AtomicInteger ended = new AtomicInteger();
        Map<String, Integer> by = unary(stub, 1500, 32, () -> {
            if (ended.incrementAndGet() == 300) {
                backends.get(1).kill();
            }
        });
        assertEquals(null, by.get("failed"), "no failed call: " + by);
        assertTrue(by.getOrDefault("b", 0) < 1500 / 3, "the killed backend stopped getting calls: " + by);
    }

    @Test
    void aBackendThatSendsGoawayUnderLoadFailsNoUnaryCall() throws Exception {
        backends.forEach(b -> b.delayMillis = 2);
        Balancer balancer = fx.balancer(yaml());
        SimpleServiceGrpc.SimpleServiceFutureStub stub = connect(balancer);
        AtomicInteger ended = new AtomicInteger();
        // A graceful shutdown: GOAWAY, the calls it allows finish, later streams are refused.
        Map<String, Integer> by = unary(stub, 1500, 32, () -> {
            if (ended.incrementAndGet() == 300) {
                backends.get(1).shutdown();
            }
        });
        assertEquals(null, by.get("failed"), "no failed call: " + by);
        assertTrue(by.getOrDefault("b", 0) < 1500 / 3, "the backend stopped getting calls: " + by);
    }

    @Test
    void aStreamOnAKilledBackendEndsUnavailable() throws Exception {
        Balancer balancer = fx.balancer(yaml());
        connect(balancer);
        Iterator<SimpleResponse> stream = SimpleServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(20, TimeUnit.SECONDS).serverStreamingRpc(request("100000000"));
        String first = stream.next().getResponseMessage();
        String owner = first.substring(0, first.indexOf(':'));
        backends.stream().filter(b -> b.name.equals(owner)).findFirst().orElseThrow().kill();
        StatusRuntimeException end = null;
        try {
            while (stream.hasNext()) {
                stream.next();
            }
        } catch (StatusRuntimeException e) {
            end = e;
        }
        assertTrue(end != null, "the stream did not end in an error");
        assertEquals(Status.Code.UNAVAILABLE, end.getStatus().getCode(), end.toString());
    }

    @Test
    void aClientThatDoesNotReadHoldsTheStreamingBackendBack() throws Exception {
        for (GrpcBackend b : backends) {
            b.padding = 1024;
        }
        Balancer balancer = fx.balancer(yaml());
        connect(balancer);
        int count = 10_000; // about 10 MB, far more than the flow-control windows on the way hold
        AtomicReference<ClientCallStreamObserver<SimpleRequest>> call = new AtomicReference<>();
        AtomicInteger received = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch ended = new CountDownLatch(1);
        SimpleServiceGrpc.newStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).serverStreamingRpc(
                request(Integer.toString(count)), new ClientResponseObserver<SimpleRequest, SimpleResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<SimpleRequest> requests) {
                        // One message, then nothing until asked: grpc-java stops opening its window.
                        requests.disableAutoRequestWithInitial(1);
                        call.set(requests);
                    }

                    @Override
                    public void onNext(SimpleResponse m) {
                        String text = m.getResponseMessage();
                        int n = Integer.parseInt(text.substring(text.indexOf(':') + 1, text.indexOf('|')));
                        if (n != received.getAndIncrement()) {
                            failure.compareAndSet(null, new AssertionError("out of order: " + n));
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        failure.set(t);
                        ended.countDown();
                    }

                    @Override
                    public void onCompleted() {
                        ended.countDown();
                    }
                });
        await().atMost(Fixtures.WAIT).until(() -> backends.stream().anyMatch(b -> b.heldBack));
        // The balancer holds what its windows and buffers allow and no more: the backend stays held.
        await().during(1, TimeUnit.SECONDS).atMost(Fixtures.WAIT).until(() -> streamed() < count / 2);
        call.get().request(Integer.MAX_VALUE);
        assertTrue(ended.await(60, TimeUnit.SECONDS), "the stream did not end");
        assertEquals(null, failure.get());
        assertEquals(count, received.get());
    }

    private int streamed() {
        return backends.stream().mapToInt(b -> b.streamed.get()).sum();
    }

    @Test
    void serverStreamingAndBidiKeepOrderUnderFlowControl() throws Exception {
        Balancer balancer = fx.balancer(yaml());
        connect(balancer);
        Iterator<SimpleResponse> stream = SimpleServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS).serverStreamingRpc(request("10000"));
        int n = 0;
        String owner = null;
        while (stream.hasNext()) {
            String m = stream.next().getResponseMessage();
            owner = owner == null ? m.substring(0, m.indexOf(':')) : owner;
            assertEquals(owner + ":" + n, m);
            n++;
        }
        assertEquals(10000, n);

        CountDownLatch ended = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger received = new AtomicInteger();
        AtomicReference<StreamObserver<SimpleRequest>> out = new AtomicReference<>();
        out.set(SimpleServiceGrpc.newStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                .bidiStreamingRpc(new StreamObserver<>() {
                    @Override
                    public void onNext(SimpleResponse value) {
                        int i = received.getAndIncrement();
                        if (!value.getResponseMessage().equals("m" + i)) {
                            failure.compareAndSet(null, new AssertionError("out of order at " + i));
                        }
                        // One round trip at a time: the next message goes once the last one came back.
                        if (i + 1 < 10000) {
                            out.get().onNext(request("m" + (i + 1)));
                        } else {
                            out.get().onCompleted();
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        failure.compareAndSet(null, t);
                        ended.countDown();
                    }

                    @Override
                    public void onCompleted() {
                        ended.countDown();
                    }
                }));
        out.get().onNext(request("m0"));
        assertTrue(ended.await(60, TimeUnit.SECONDS), "bidi stream did not end");
        assertEquals(null, failure.get());
        assertEquals(10000, received.get());
    }

    @Test
    void aDeadlineAgainstAHungBackendEndsDeadlineExceededAndIsPassedOn() throws Exception {
        Balancer balancer = fx.balancer(yaml());
        connect(balancer);
        // The channel resolves and connects first, so that the deadline is spent at the backend.
        SimpleServiceGrpc.newBlockingStub(channel).unaryRpc(request("warm"));
        backends.forEach(b -> {
            b.hung = true;
            b.lastTimeoutNanos = 0;
        });
        StatusRuntimeException e = null;
        long start = System.nanoTime();
        try {
            SimpleServiceGrpc.newBlockingStub(channel).withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                    .unaryRpc(request("x"));
        } catch (StatusRuntimeException thrown) {
            e = thrown;
        }
        assertTrue(e != null, "the call did not fail");
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.toString());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "ended near its deadline");
        long nanos = backends.stream().mapToLong(b -> b.lastTimeoutNanos).filter(t -> t > 0).findFirst().orElse(0);
        assertTrue(nanos > 0, "the backend was sent a deadline: " + e);
        assertTrue(nanos < TimeUnit.MILLISECONDS.toNanos(200), "passed on reduced by the time spent: " + nanos);
    }

    @Test
    void aNotServingHealthAnswerTakesTheBackendOut() throws Exception {
        Balancer balancer = fx.balancer(yaml().set("health.enabled", "true").set("health.type", "grpc")
                .set("health.grpc-service", GrpcBackend.SERVICE).set("health.interval", "100ms")
                .set("health.timeout", "1s").set("health.rise", "1").set("health.fall", "1"));
        await().atMost(Fixtures.WAIT).until(() -> fx.state("a").healthy() && fx.state("b").healthy()
                && fx.state("c").healthy());
        backends.get(0).serving(false);
        await().atMost(Fixtures.WAIT).until(() -> !fx.state("a").healthy());
        Map<String, Integer> by = unary(connect(balancer), 300, 8, () -> { });
        assertEquals(null, by.get("a"), "no call reached the NOT_SERVING backend: " + by);
        assertEquals(null, by.get("failed"), by.toString());
        backends.get(0).serving(true);
        await().atMost(Fixtures.WAIT).until(() -> fx.state("a").healthy());
    }

    @Test
    void eachCallsGrpcStatusIsLoggedAndCounted() throws Exception {
        Balancer balancer = fx.balancer(yaml().set("access-log", fx.accessLog().toString()));
        connect(balancer);
        SimpleServiceGrpc.SimpleServiceBlockingStub stub = SimpleServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        // OK in the trailers after the answer.
        stub.unaryRpc(request("ok"));
        // The backend's own error, in the head of a trailers-only response.
        backends.forEach(b -> b.failWith = Status.INVALID_ARGUMENT.withDescription("bad"));
        assertEquals(Status.Code.INVALID_ARGUMENT, failure(stub).getCode());
        // The balancer's own answer: no backend left to take the call.
        backends.forEach(GrpcBackend::kill);
        assertEquals(Status.Code.UNAVAILABLE, failure(stub).getCode());

        List<JsonNode> lines = fx.accessLogLines(l -> assertEquals(3, l.size(), "access log lines: " + l));
        assertEquals(List.of(0, 3, 14), lines.stream().map(l -> l.get("grpc_status").asInt()).toList(),
                lines.toString());
        assertTrue(lines.get(2).get("backend").isNull(), "the balancer answered: " + lines.get(2));
        String metrics = fx.adminGet(balancer, "/metrics");
        assertEquals(1.0, total(metrics, "grpc_status=\"OK\""), metrics);
        assertEquals(1.0, total(metrics, "grpc_status=\"INVALID_ARGUMENT\""), metrics);
        assertEquals(1.0, total(metrics, "backend=\"none\",grpc_status=\"UNAVAILABLE\""), metrics);
    }

    private static Status failure(SimpleServiceGrpc.SimpleServiceBlockingStub stub) {
        try {
            stub.unaryRpc(request("x"));
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
        throw new AssertionError("the call did not fail");
    }

    /** The sum of the {@code fulcrum_grpc_requests_total} samples whose labels hold {@code labels}. */
    private static double total(String metrics, String labels) {
        return metrics.lines().filter(l -> l.startsWith("fulcrum_grpc_requests_total{") && l.contains(labels))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
