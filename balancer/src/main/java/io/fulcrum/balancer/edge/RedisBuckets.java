package io.fulcrum.balancer.edge;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.config.RedisConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.DefaultClientResources;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's token buckets, kept in Redis and taken from atomically by one Lua script
 * ({@code EVALSHA}, falling back to {@code EVAL} when Redis lost its script cache), with Redis' own
 * clock ({@code TIME}) so that every balancer sees the same refill. Asynchronous only (Lettuce's own
 * event loop, one thread): nothing here ever blocks the caller.
 *
 * <p>Whether Redis is reachable is tracked here: a command that fails (refused while disconnected,
 * or unanswered within {@code redis.timeout}) marks it unreachable, and a probe ({@code PING}, or a
 * new connection when there is none) every {@link #PROBE_INTERVAL} marks it reachable again. While it
 * is unreachable the limiters decide locally ({@link FleetRateLimiter}) and count it here.
 *
 * <p>Thread-safe.
 */
public final class RedisBuckets implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisBuckets.class);
    static final Duration PROBE_INTERVAL = Duration.ofMillis(250);

    /**
     * KEYS[1]: the bucket. ARGV: tokens a second, burst, tokens taken whatever the bucket holds (the
     * debt of requests let through while a reply was out; the bucket may go down to -burst), tokens
     * asked for. Returns {granted, microseconds until a token is back (0 when one is there)}. The
     * bucket is kept as {tokens, at} in microseconds of Redis' clock, and expires once it would be
     * full again.
     */
    static final String SCRIPT = """
            local rate = tonumber(ARGV[1])
            local burst = tonumber(ARGV[2])
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
            local tokens = tonumber(held[1])
            local at = tonumber(held[2])
            if tokens == nil or at == nil then
              tokens = burst
              at = now
            end
            if now > at then
              tokens = math.min(burst, tokens + (now - at) * rate / 1000000)
              at = now
            end
            tokens = math.max(-burst, tokens - tonumber(ARGV[3]))
            local granted = 0
            if tokens >= 1 then
              granted = math.min(tonumber(ARGV[4]), math.floor(tokens))
              tokens = tokens - granted
            end
            local wait = 0
            if tokens < 1 then
              wait = math.ceil((1 - tokens) * 1000000 / rate)
            end
            redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'at', string.format('%.0f', at))
            redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
            return {granted, wait}
            """;
    static final String SCRIPT_SHA = sha1(SCRIPT);

    /** What one take got: tokens granted, and when none, how long until one is back. */
    record Grant(long granted, long waitNanos) {
    }

    private final RedisConfig config;
    private final RedisURI uri;
    private final ClientResources resources;
    private final RedisClient client;
    private final ScheduledFuture<?> probe;
    private final LongAdder fallbacks = new LongAdder();
    private final LongAdder failures = new LongAdder();
    /** Takes sent whose answer (or failure) has not yet been applied to their lease. */
    private final AtomicInteger takesInFlight = new AtomicInteger();
    private volatile StatefulRedisConnection<String, String> connection;
    private volatile boolean connecting;
    private volatile boolean reachable;
    /** When it was last found unreachable (or, before its first answer, when this was made). */
    private volatile Instant unreachableSince = Instant.now();
    private volatile String lastError = "not connected yet";
    private volatile boolean closed;

    private RedisBuckets(RedisConfig config) {
        this.config = requireNonNull(config, "config");
        this.uri = RedisURI.create(config.url());
        uri.setTimeout(config.timeout());
        // One I/O thread is plenty for one pipelined connection; reconnects are quick so that the
        // fleet-wide limit comes back soon after Redis does.
        this.resources = DefaultClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2,
                        TimeUnit.MILLISECONDS))
                .build();
        this.client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                // Never queue behind a dead connection: a request must not wait for Redis.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(config.timeout()))
                .socketOptions(SocketOptions.builder().connectTimeout(config.timeout().multipliedBy(4)).build())
                .build());
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> lost) {
                // Found at once, not at the next command: the status page says so while nobody asks.
                if (!closed) {
                    failed(new IllegalStateException("connection lost"));
                }
            }
        });
        long every = PROBE_INTERVAL.toMillis();
        this.probe = resources.eventExecutorGroup().next().scheduleWithFixedDelay(this::probe, 0, every,
                TimeUnit.MILLISECONDS);
    }

    /** Starts connecting to {@code config}'s Redis; returns at once, reachable or not. */
    public static RedisBuckets start(RedisConfig config) {
        return new RedisBuckets(config);
    }

    public RedisConfig config() {
        return config;
    }

    /** Whether the last command or probe was answered: the buckets are fleet-wide now. */
    public boolean reachable() {
        return reachable;
    }

    /** When Redis was last found unreachable, or {@code null} while it is reachable. */
    public Instant unreachableSince() {
        return reachable ? null : unreachableSince;
    }

    /** Why it was last found unreachable. */
    public String lastError() {
        return lastError;
    }

    /** Counts a request decided without Redis because it was unreachable. */
    void decidedLocally() {
        fallbacks.increment();
    }

    /** Requests decided without Redis (by the local limit, or refused with fail-open off) since start. */
    public long fallbacks() {
        return fallbacks.sum();
    }

    /** Commands that failed (refused, timed out, errors) since start. */
    public long failures() {
        return failures.sum();
    }

    /** Takes sent to Redis whose answer has not been applied yet: while one is out, its key is decided on credit. */
    public int takesInFlight() {
        return takesInFlight.get();
    }

    /** A take is on its way ({@link FleetRateLimiter}). */
    void takeSent() {
        takesInFlight.incrementAndGet();
    }

    /** A take's answer or failure has been applied. */
    void takeSettled() {
        takesInFlight.decrementAndGet();
    }


    /**
     * Takes from the bucket {@code key}: {@code force} tokens whatever it holds, then up to
     * {@code want} more. Completes on Redis' I/O thread, exceptionally when the command failed.
     */
    CompletionStage<Grant> take(String key, double perSecond, long burst, long force, long want) {
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("not connected"));
        }
        String[] keys = {config.keyPrefix() + key};
        String[] args = {Double.toString(perSecond), Long.toString(burst), Long.toString(force), Long.toString(want)};
        CompletionStage<List<Object>> reply = c.async().<List<Object>>evalsha(SCRIPT_SHA, ScriptOutputType.MULTI,
                keys, args).exceptionallyCompose(e -> e instanceof RedisNoScriptException
                        || e.getCause() instanceof RedisNoScriptException
                        ? c.async().<List<Object>>eval(SCRIPT, ScriptOutputType.MULTI, keys, args)
                        : CompletableFuture.failedFuture(e));
        return reply.handle((list, e) -> {
            if (e != null) {
                failed(e);
                throw new IllegalStateException("rate-limit store: " + e.getMessage(), e);
            }
            answered();
            return new Grant((Long) list.get(0), TimeUnit.MICROSECONDS.toNanos((Long) list.get(1)));
        });
    }

    private void answered() {
        if (!reachable) {
            reachable = true;
            log.info("redis {} is reachable: rate limits with store: redis are fleet-wide again", config.safeUrl());
        }
    }

    private void failed(Throwable e) {
        failures.increment();
        lastError = String.valueOf(e.getMessage());
        if (e instanceof RedisCommandExecutionException || e.getCause() instanceof RedisCommandExecutionException) {
            // Redis answered, with an error (a clashing key, say): it is reachable; this take fails alone.
            return;
        }
        if (reachable) {
            reachable = false;
            unreachableSince = Instant.now();
            log.warn("redis {} is unreachable ({}): rate limits with store: redis apply {} until it answers",
                    config.safeUrl(), lastError, config.failOpen() ? "in this balancer alone" : "by refusing");
        }
    }

    /** While unreachable: a new connection if there is none, else a PING; runs on Lettuce's own thread. */
    private void probe() {
        if (reachable || closed || connecting) {
            return;
        }
        StatefulRedisConnection<String, String> c = connection;
        if (c == null) {
            connecting = true;
            client.connectAsync(StringCodec.UTF8, uri).whenComplete((made, e) -> {
                connecting = false;
                if (e != null) {
                    failed(e);
                } else if (closed) {
                    made.closeAsync();
                } else {
                    connection = made;
                    answered();
                }
            });
            return;
        }
        connecting = true;
        c.async().ping().whenComplete((pong, e) -> {
            connecting = false;
            if (e != null) {
                failed(e);
            } else {
                answered();
            }
        });
    }

    /** Closes the connection and Lettuce's threads; waits for them at most a few seconds. */
    @Override
    public void close() {
        closed = true;
        reachable = false;
        probe.cancel(false);
        StatefulRedisConnection<String, String> c = connection;
        if (c != null) {
            c.close();
        }
        // A short quiet period lets a connect still in progress close its channel on the event loop,
        // which frees the buffer its handler holds, before the loop stops.
        client.shutdown(Duration.ofMillis(100), Duration.ofSeconds(2));
        resources.shutdown(100, 2000, TimeUnit.MILLISECONDS);
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java platform", e);
        }
    }
}
