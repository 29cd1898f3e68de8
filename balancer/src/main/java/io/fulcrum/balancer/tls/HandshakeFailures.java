package io.fulcrum.balancer.tls;

import static java.util.Objects.requireNonNull;

import io.fulcrum.balancer.balancing.NanoClock;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failed TLS handshakes on the HTTPS listener: counted by a low-cardinality reason, and logged as a
 * sample, because any scanner on the internet fails them by the thousand and one WARN line each
 * would bury everything else in the log. The first failure is logged, then at most one a minute,
 * with the number of failures left unlogged since the last line.
 *
 * <p>Thread-safe and lock-free: every event loop records its connections' failures here.
 */
public final class HandshakeFailures {
    private static final Logger log = LoggerFactory.getLogger(HandshakeFailures.class);
    /** At most one log line per this period. */
    static final long LOG_PERIOD_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** Why a handshake failed, as the {@code reason} label says it. */
    public enum Reason {
        /** The client did not speak TLS at all (plain HTTP to the HTTPS port, a port scanner). */
        NOT_TLS,
        /** No TLS version in common (a client of an older version than {@code tls.protocols}). */
        PROTOCOL,
        /** No cipher suite in common. */
        CIPHER,
        /** A certificate was refused (the client does not trust the balancer's, usually). */
        CERTIFICATE,
        /** The handshake did not finish in time. */
        TIMEOUT,
        /** The client closed the connection during the handshake. */
        CLOSED,
        /** Anything else (a malformed message, an internal error). */
        OTHER;

        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final NanoClock clock;
    private final LongAdder[] counts = new LongAdder[Reason.values().length];
    /** When the next line may be logged; the first failure may be logged at once. */
    private final AtomicLong nextLog;
    private final LongAdder unlogged = new LongAdder();

    public HandshakeFailures(NanoClock clock) {
        this.clock = requireNonNull(clock, "clock");
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
        this.nextLog = new AtomicLong(clock.nanoTime());
    }

    /** Every reason's label value, in a fixed order. */
    public static List<String> reasons() {
        return java.util.Arrays.stream(Reason.values()).map(Reason::tag).toList();
    }

    /** The failures counted for the reason whose label is {@code tag}. */
    public long count(String tag) {
        return counts[Reason.valueOf(tag.toUpperCase(Locale.ROOT)).ordinal()].sum();
    }

    /**
     * Counts one failed handshake, and logs it when no line was logged in the last minute.
     *
     * @param peer who failed it, for the log line
     * @return the reason it was counted under
     */
    public Reason record(Object peer, Throwable cause) {
        Reason reason = reason(cause);
        counts[reason.ordinal()].increment();
        long now = clock.nanoTime();
        long next = nextLog.get();
        if (now - next >= 0 && nextLog.compareAndSet(next, now + LOG_PERIOD_NANOS)) {
            long since = unlogged.sumThenReset();
            // No stack trace: the reason and the message say all there is to say about a peer.
            log.warn("TLS handshake failed from {}: {} ({}){}", peer, reason.tag(), message(cause),
                    since == 0 ? "" : "; " + since + " more failed since the last one logged, not logged");
        } else {
            unlogged.increment();
        }
        return reason;
    }

    /** The reason of a failure, from the exception's type and, for the JDK's and BoringSSL's, its text. */
    static Reason reason(Throwable cause) {
        Throwable c = cause;
        while (c.getCause() != null && !(c instanceof javax.net.ssl.SSLException)) {
            c = c.getCause();
        }
        if (c instanceof NotSslRecordException) {
            return Reason.NOT_TLS;
        }
        if (c instanceof SslHandshakeTimeoutException) {
            return Reason.TIMEOUT;
        }
        if (c instanceof ClosedChannelException) {
            return Reason.CLOSED;
        }
        String text = String.valueOf(c.getMessage()).toLowerCase(Locale.ROOT);
        if (text.contains("protocol") || text.contains("version")) {
            return Reason.PROTOCOL;
        }
        if (text.contains("cipher")) {
            return Reason.CIPHER;
        }
        if (text.contains("certificate")) {
            return Reason.CERTIFICATE;
        }
        if (text.contains("closed") || text.contains("reset") || text.contains("end of stream")) {
            return Reason.CLOSED;
        }
        return Reason.OTHER;
    }

    private static String message(Throwable cause) {
        Throwable c = cause;
        while (c.getCause() != null && c.getMessage() == null) {
            c = c.getCause();
        }
        return c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage());
    }
}
