package io.fulcrum.balancer.accesslog;

import io.fulcrum.balancer.balancing.TestTraces;
import io.fulcrum.balancer.metrics.RequestRecord;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The event loop's share of the access log: one finished request's line formatted into the loop's
 * buffer ({@link AccessLogLine}). {@code request=wrk} is what the load benchmark's requests log
 * (path {@code /}, no user agent, generated request and trace ids); {@code request=browser} a
 * browser's request with a query, a long user agent and its own request id. Run with
 * {@code scripts/jmh.sh AccessLogBenchmark -prof gc}: a line must allocate nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AccessLogBenchmark {
    @Param({"wrk", "browser"})
    public String request;

    @Param({"json", "logfmt"})
    public String format;

    private RequestRecord record;
    private AccessLogLine line;
    private boolean json;

    @Setup
    public void setUp() {
        List<RequestRecord.Try> tries = List.of(new RequestRecord.Try("us-2", "success", 0, 183_000, 200));
        long now = System.currentTimeMillis();
        record = "wrk".equals(request)
                ? new RequestRecord(now, "9f2c4e1a7b3d5f60a1b2c3d4e5f60718", "4bf92f3577b34da6a3ce929d0e0e4736",
                        "127.0.0.1", "GET", "127.0.0.1:8080", "/", "HTTP/1.1", 200, RequestRecord.COMPLETED, 0, 612,
                        241_000, 236_000, null, "us-2", tries, TestTraces.retryThatAvoidedOne(), null,
                        "default-pool", "default", RequestRecord.NO_GRPC_STATUS)
                : new RequestRecord(now, "0123456789abcdef0123456789abcdef", "4bf92f3577b34da6a3ce929d0e0e4736",
                        "203.0.113.57", "GET", "app.example.com", "/posts?limit=20&before=2026-11-30T12%3A00%3A00Z",
                        "HTTP/1.1", 200, RequestRecord.COMPLETED, 0, 18_442, 4_210_000, 4_190_000,
                        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "us-2", tries,
                        TestTraces.retryThatAvoidedOne(), null, "api", "posts", RequestRecord.NO_GRPC_STATUS);
        line = new AccessLogLine(1 << 20);
        json = "json".equals(format);
    }

    @Benchmark
    public int formatLine() {
        if (line.length() > (1 << 20) - 4096) {
            line.clear();
        }
        if (json) {
            line.json(record);
        } else {
            line.logfmt(record);
        }
        return line.length();
    }
}
