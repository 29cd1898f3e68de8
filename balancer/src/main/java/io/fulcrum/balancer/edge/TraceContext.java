package io.fulcrum.balancer.edge;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) as far as a proxy that records no spans
 * needs it: a valid {@code traceparent} is forwarded unchanged and its trace id logged; a missing or
 * invalid one is replaced by a new trace (random trace id and parent id, not sampled), and an
 * invalid one's {@code tracestate} is dropped with it (section 3.3: tracestate without a valid
 * traceparent means nothing).
 *
 * <p>Stateless and thread-safe.
 */
public final class TraceContext {
    public static final String TRACEPARENT = "traceparent";
    public static final String TRACESTATE = "tracestate";
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    private TraceContext() {
    }

    /**
     * The trace id of a valid {@code traceparent} (version 00, or a later version read as 00), or
     * {@code null} when it is missing or invalid: wrong length or separators, upper-case or non-hex
     * digits, an all-zero trace or parent id, or version ff.
     */
    public static String traceId(String traceparent) {
        if (traceparent == null || traceparent.length() < 55) {
            return null;
        }
        String version = traceparent.substring(0, 2);
        if (!lowerHex(traceparent, 0, 2) || version.equals("ff")
                || (version.equals("00") && traceparent.length() != 55)
                || (traceparent.length() > 55 && traceparent.charAt(55) != '-')) {
            return null;
        }
        if (traceparent.charAt(2) != '-' || traceparent.charAt(35) != '-' || traceparent.charAt(52) != '-') {
            return null;
        }
        if (!lowerHex(traceparent, 3, 35) || !lowerHex(traceparent, 36, 52) || !lowerHex(traceparent, 53, 55)) {
            return null;
        }
        if (allZero(traceparent, 3, 35) || allZero(traceparent, 36, 52)) {
            return null;
        }
        return traceparent.substring(3, 35);
    }

    /**
     * A new {@code traceparent}: version 00, random trace and parent ids (never all zero), flags 00
     * (not sampled). Written as one string; {@link #startedTraceId} reads its trace id.
     */
    public static String start() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long hi;
        long lo;
        do {
            hi = random.nextLong();
            lo = random.nextLong();
        } while (hi == 0 && lo == 0);
        long parent;
        do {
            parent = random.nextLong();
        } while (parent == 0);
        byte[] out = new byte[55];
        out[0] = '0';
        out[1] = '0';
        out[2] = '-';
        hex(hi, out, 3);
        hex(lo, out, 19);
        out[35] = '-';
        hex(parent, out, 36);
        out[52] = '-';
        out[53] = '0';
        out[54] = '0';
        return new String(out, StandardCharsets.ISO_8859_1);
    }

    /** The trace id of a {@code traceparent} made by {@link #start()}. */
    public static String startedTraceId(String traceparent) {
        return traceparent.substring(3, 35);
    }

    private static void hex(long v, byte[] out, int at) {
        for (int i = 0; i < 16; i++) {
            out[at + i] = HEX[(int) (v >>> (60 - 4 * i)) & 0xF];
        }
    }

    private static boolean lowerHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static boolean allZero(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (s.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }
}
