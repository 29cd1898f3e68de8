package io.fulcrum.testing;

import static java.util.Objects.requireNonNull;

import io.fulcrum.testing.RawHttpClient.TruncatedResponseException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * A bounded, closed-loop load generator: {@code connections} keep-alive HTTP/1.1 connections
 * (one thread each, {@link RawHttpClient} underneath), each sending its next request as soon as the
 * previous one ended, until {@code requests} were sent or {@code duration} passed. Every request
 * carries {@value #SEQ_HEADER} with its sequence number, so a backend can tell which requests it
 * received. Every outcome is recorded: the status and the backend that answered (from the
 * balancer's {@code backend-header}), a response cut inside its body, or no response at all. A
 * connection that failed, or that the server asked to close, is replaced before the next request.
 *
 * <p>Thread-safe: start it on a test thread, read its progress from any thread.
 */
public final class HttpLoad {
    /** Request header carrying the sequence number of each request. */
    public static final String SEQ_HEADER = "X-Load-Seq";

    /** One request to send. */
    public record Request(String method, String target, Map<String, String> headers, byte[] body) {
        public Request {
            requireNonNull(method, "method");
            requireNonNull(target, "target");
            headers = Map.copyOf(headers);
            body = body == null ? new byte[0] : body.clone();
        }

        public static Request get(String target) {
            return new Request("GET", target, Map.of(), null);
        }
    }

    /** How a request ended. */
    public enum Kind {
        /** A complete response arrived. */
        ANSWERED,
        /** The response head arrived, then the connection ended before the body was complete. */
        CUT,
        /** No response head arrived (refused, reset, or the client's read timeout passed). */
        NO_RESPONSE
    }

    /**
     * What one request saw.
     *
     * @param status the status code, or -1 without a response head
     * @param backend the backend header's value, or {@code null}
     * @param error the exception's text when the request did not end {@link Kind#ANSWERED}
     */
    public record Outcome(long seq, Request request, long startNanos, long endNanos, Kind kind, int status,
            String backend, byte[] body, String error) {
        public boolean ok() {
            return kind == Kind.ANSWERED && status / 100 == 2;
        }

        public long millis() {
            return TimeUnit.NANOSECONDS.toMillis(endNanos - startNanos);
        }

        @Override
        public String toString() {
            return "#" + seq + " " + request.method() + " " + request.target() + " -> " + kind + " " + status
                    + (backend == null ? "" : " from " + backend) + (error == null ? "" : " (" + error + ")")
                    + " after " + millis() + "ms";
        }
    }

    private final int port;
    private final int connections;
    private final long maxRequests;
    private final Duration maxDuration;
    private final int readTimeoutMillis;
    private final String backendHeader;
    private final LongFunction<Request> script;
    private final AtomicLong nextSeq = new AtomicLong();
    private final AtomicInteger completed = new AtomicInteger();
    private final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    private final CountDownLatch done;
    private volatile boolean stopped;
    private long deadlineNanos;

    private HttpLoad(Builder b) {
        this.port = b.port;
        this.connections = b.connections;
        this.maxRequests = b.requests;
        this.maxDuration = b.duration;
        this.readTimeoutMillis = (int) b.readTimeout.toMillis();
        this.backendHeader = b.backendHeader;
        this.script = b.script;
        this.done = new CountDownLatch(connections);
    }

    /** A load against 127.0.0.1:{@code port}. */
    public static Builder to(int port) {
        return new Builder(port);
    }

    /** Builds a load; not thread safe. */
    public static final class Builder {
        private final int port;
        private int connections = 16;
        private long requests = 2000;
        private Duration duration = Duration.ofSeconds(30);
        private Duration readTimeout = Duration.ofSeconds(10);
        private String backendHeader = Fixtures.BACKEND_HEADER;
        private LongFunction<Request> script = seq -> Request.get("/");

        private Builder(int port) {
            this.port = port;
        }

        public Builder connections(int n) {
            this.connections = n;
            return this;
        }

        /** At most this many requests in all. */
        public Builder requests(long n) {
            this.requests = n;
            return this;
        }

        /** No request starts after this much time. */
        public Builder duration(Duration d) {
            this.duration = requireNonNull(d, "d");
            return this;
        }

        /** A request without any byte of response for this long counts as {@link Kind#NO_RESPONSE}. */
        public Builder readTimeout(Duration d) {
            this.readTimeout = requireNonNull(d, "d");
            return this;
        }

        public Builder backendHeader(String name) {
            this.backendHeader = requireNonNull(name, "name");
            return this;
        }

        /** Every request a {@code GET /} with these headers. */
        public Builder headers(Map<String, String> headers) {
            Request r = new Request("GET", "/", headers, null);
            return script(seq -> r);
        }

        /** Starts the load and waits until it ends (at most a minute past its duration). */
        public Result run() throws InterruptedException {
            return start().await(duration.plusMinutes(1));
        }

        /** The request to send as number {@code seq}; called on the connection threads. */
        public Builder script(LongFunction<Request> s) {
            this.script = requireNonNull(s, "s");
            return this;
        }

        /** Starts the connections' threads. */
        public HttpLoad start() {
            HttpLoad load = new HttpLoad(this);
            load.deadlineNanos = System.nanoTime() + duration.toNanos();
            for (int i = 0; i < connections; i++) {
                Thread t = new Thread(load::runConnection, "http-load-" + port + "-" + i);
                t.setDaemon(true);
                t.start();
            }
            return load;
        }
    }

    /** Requests that have ended so far. */
    public int completed() {
        return completed.get();
    }

    /** Requests started so far (sequence numbers handed out). */
    public long started() {
        return Math.min(nextSeq.get(), maxRequests);
    }

    /** Lets requests in progress end and starts no more. */
    public void stop() {
        stopped = true;
    }

    /** {@link #stop()}, then {@link #await}. */
    public Result stopAndAwait(Duration timeout) throws InterruptedException {
        stop();
        return await(timeout);
    }

    /**
     * Waits until every connection has finished, at most {@code timeout}.
     *
     * @throws AssertionError when the load is still running then
     */
    public Result await(Duration timeout) throws InterruptedException {
        if (!done.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            stopped = true;
            throw new AssertionError("load still running after " + timeout + ": " + snapshot().summary());
        }
        return snapshot();
    }

    /** What has ended so far. */
    public Result snapshot() {
        List<Outcome> list = new ArrayList<>(outcomes);
        list.sort((a, b) -> Long.compare(a.seq(), b.seq()));
        return new Result(list);
    }

    private void runConnection() {
        RawHttpClient client = null;
        try {
            while (!stopped && System.nanoTime() < deadlineNanos) {
                long seq = nextSeq.getAndIncrement();
                if (seq >= maxRequests) {
                    return;
                }
                Request request = script.apply(seq);
                long start = System.nanoTime();
                try {
                    if (client == null) {
                        client = RawHttpClient.connect(port, readTimeoutMillis);
                    }
                    client.send(encode(seq, request));
                    RawHttpClient.Response r = client.readResponse("HEAD".equals(request.method()));
                    record(new Outcome(seq, request, start, System.nanoTime(), Kind.ANSWERED, r.status(),
                            r.header(backendHeader), r.body(), null));
                    String connection = r.header("connection");
                    if (connection != null && connection.equalsIgnoreCase("close")) {
                        client = closeQuietly(client);
                    }
                } catch (TruncatedResponseException e) {
                    int status = Integer.parseInt(e.statusLine().split(" ", 3)[1]);
                    record(new Outcome(seq, request, start, System.nanoTime(), Kind.CUT, status, null, null,
                            e.getMessage()));
                    client = closeQuietly(client);
                } catch (IOException | RuntimeException e) {
                    record(new Outcome(seq, request, start, System.nanoTime(), Kind.NO_RESPONSE, -1, null, null,
                            e.toString()));
                    client = closeQuietly(client);
                }
            }
        } finally {
            closeQuietly(client);
            done.countDown();
        }
    }

    private void record(Outcome o) {
        outcomes.add(o);
        completed.incrementAndGet();
    }

    private static RawHttpClient closeQuietly(RawHttpClient c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // already broken: nothing to release
            }
        }
        return null;
    }

    private static byte[] encode(long seq, Request r) throws IOException {
        StringBuilder head = new StringBuilder(128)
                .append(r.method()).append(' ').append(r.target()).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1\r\n")
                .append(SEQ_HEADER).append(": ").append(seq).append("\r\n");
        r.headers().forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        if (r.body().length > 0 || !r.method().equals("GET") && !r.method().equals("HEAD")) {
            head.append("Content-Length: ").append(r.body().length).append("\r\n");
        }
        head.append("\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream(head.length() + r.body().length);
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(r.body());
        return out.toByteArray();
    }

    /** The outcomes of one run, ordered by sequence number. Immutable. */
    public record Result(List<Outcome> outcomes) {
        public Result {
            outcomes = List.copyOf(outcomes);
        }

        public int total() {
            return outcomes.size();
        }

        /** Requests that did not end with a complete 2xx answer. */
        public List<Outcome> failures() {
            return matching(o -> !o.ok());
        }

        public List<Outcome> matching(Predicate<Outcome> p) {
            return outcomes.stream().filter(p).toList();
        }

        /** Answered requests per backend header value ({@code "-"} for none). */
        public Map<String, Long> byBackend() {
            return outcomes.stream().filter(o -> o.kind() == Kind.ANSWERED)
                    .collect(Collectors.groupingBy(o -> o.backend() == null ? "-" : o.backend(), TreeMap::new,
                            Collectors.counting()));
        }

        /** Requests per status code; -1 counts requests without a complete answer. */
        public Map<Integer, Integer> statuses() {
            Map<Integer, Integer> m = new TreeMap<>();
            for (Outcome o : outcomes) {
                m.merge(o.kind() == Kind.ANSWERED ? o.status() : -1, 1, Integer::sum);
            }
            return m;
        }

        public int count(int status) {
            return statuses().getOrDefault(status, 0);
        }

        /** 200 answers per backend (from the backend header). */
        public Map<String, Integer> servedBy() {
            Map<String, Integer> m = new TreeMap<>();
            for (Outcome o : outcomes) {
                if (o.kind() == Kind.ANSWERED && o.status() == 200 && o.backend() != null) {
                    m.merge(o.backend(), 1, Integer::sum);
                }
            }
            return m;
        }

        public int servedBy(String backend) {
            return servedBy().getOrDefault(backend, 0);
        }

        /** The first few errors of requests without a complete answer. */
        public List<String> errors() {
            return outcomes.stream().filter(o -> o.error() != null).limit(10).map(Outcome::toString).toList();
        }

        /** From the first request's start to the last one's end. */
        public long elapsedNanos() {
            long start = outcomes.stream().mapToLong(Outcome::startNanos).min().orElse(0);
            long end = outcomes.stream().mapToLong(Outcome::endNanos).max().orElse(0);
            return end - start;
        }

        /** Throughput, for reports (never asserted). */
        public double requestsPerSecond() {
            long elapsed = elapsedNanos();
            return elapsed == 0 ? 0 : total() * 1e9 / elapsed;
        }

        /** Outcomes per kind and status, e.g. {@code ANSWERED 200=1990, NO_RESPONSE -1=10}. */
        public Map<String, Long> byStatus() {
            return outcomes.stream().collect(Collectors.groupingBy(o -> o.kind() + " " + o.status(), TreeMap::new,
                    Collectors.counting()));
        }

        /** The 99th percentile of request latency in milliseconds (for reports, never asserted). */
        public long p99Millis() {
            if (outcomes.isEmpty()) {
                return 0;
            }
            long[] ms = outcomes.stream().mapToLong(Outcome::millis).sorted().toArray();
            return ms[(int) Math.min(ms.length - 1, Math.ceil(ms.length * 0.99) - 1)];
        }

        @Override
        public String toString() {
            return summary();
        }

        /** One line for assertion messages: totals, statuses, backends, p99 and the first failures. */
        public String summary() {
            List<Outcome> failures = failures();
            return total() + " requests, statuses " + byStatus() + ", backends " + byBackend() + ", p99 "
                    + p99Millis() + "ms, " + failures.size() + " failed"
                    + (failures.isEmpty() ? "" : ", first: " + failures.subList(0, Math.min(5, failures.size())));
        }
    }
}
