package io.fulcrum.balancer.exchange;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * What the balancer knows of gRPC over HTTP/2 (the "gRPC over HTTP2" protocol document): a request
 * is gRPC by its {@code content-type} ({@code application/grpc} and its subtypes), its deadline is
 * {@code grpc-timeout}, and its outcome is the {@code grpc-status} of the trailers, or of the head
 * of a response of headers only ("trailers-only"). Stateless.
 */
public final class Grpc {
    public static final AsciiString STATUS = AsciiString.cached("grpc-status");
    public static final AsciiString MESSAGE = AsciiString.cached("grpc-message");
    public static final AsciiString TIMEOUT = AsciiString.cached("grpc-timeout");
    private static final String CONTENT_TYPE = "application/grpc";
    /** {@code grpc-status} UNAVAILABLE. */
    static final int UNAVAILABLE = 14;
    /** {@code grpc-status} UNKNOWN: what a client makes of a status it cannot read. */
    static final int UNKNOWN = 2;
    private static final long MAX_TIMEOUT_VALUE = 99_999_999L;

    private Grpc() {
    }

    /** Whether {@code message} is gRPC: its content type is {@code application/grpc} or {@code application/grpc+...}/{@code ;...}. */
    public static boolean is(HttpMessage message) {
        String type = message.headers().get(HttpHeaderNames.CONTENT_TYPE);
        if (type == null || !type.regionMatches(true, 0, CONTENT_TYPE, 0, CONTENT_TYPE.length())) {
            return false;
        }
        return type.length() == CONTENT_TYPE.length() || type.charAt(CONTENT_TYPE.length()) == '+'
                || type.charAt(CONTENT_TYPE.length()) == ';';
    }

    /** Whether a response head is a trailers-only {@code UNAVAILABLE}: the backend could not serve the call and sent no message. */
    static boolean unavailable(HttpResponse head) {
        return head.status().code() == 200 && Integer.toString(UNAVAILABLE).equals(head.headers().get(STATUS));
    }

    /**
     * The code of a {@code grpc-status} field's {@code value}: its number, {@link #UNKNOWN} when it is
     * no number of at most 9 digits (as a gRPC client reads it), or {@code -1} for no field.
     */
    static int statusCode(String value) {
        if (value == null) {
            return -1;
        }
        if (value.isEmpty() || value.length() > 9) {
            return UNKNOWN;
        }
        int code = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return UNKNOWN;
            }
            code = code * 10 + (c - '0');
        }
        return code;
    }

    /**
     * The {@code grpc-timeout} of {@code message} in nanoseconds, or 0 when it has none or a malformed
     * one (at most 8 digits and a unit: H, M, S, m, u, n).
     */
    static long timeoutNanos(HttpMessage message) {
        String value = message.headers().get(TIMEOUT);
        if (value == null || value.length() < 2 || value.length() > 9) {
            return 0;
        }
        long amount = 0;
        for (int i = 0; i < value.length() - 1; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            amount = amount * 10 + (c - '0');
        }
        long unit = switch (value.charAt(value.length() - 1)) {
            case 'H' -> 3_600_000_000_000L;
            case 'M' -> 60_000_000_000L;
            case 'S' -> 1_000_000_000L;
            case 'm' -> 1_000_000L;
            case 'u' -> 1_000L;
            case 'n' -> 1L;
            default -> 0L;
        };
        return amount > Long.MAX_VALUE / Math.max(1, unit) ? Long.MAX_VALUE : amount * unit;
    }

    /** {@code nanos} as a {@code grpc-timeout} value, in the finest unit that fits 8 digits (at least 1n). */
    static String timeoutValue(long nanos) {
        long n = Math.max(1, nanos);
        if (n <= MAX_TIMEOUT_VALUE) {
            return n + "n";
        }
        if (n / 1_000 <= MAX_TIMEOUT_VALUE) {
            return n / 1_000 + "u";
        }
        if (n / 1_000_000 <= MAX_TIMEOUT_VALUE) {
            return n / 1_000_000 + "m";
        }
        return Math.min(n / 1_000_000_000L, MAX_TIMEOUT_VALUE) + "S";
    }

    /**
     * The gRPC status code of one of the balancer's own answers with {@code status}, as gRPC maps
     * HTTP statuses ("HTTP to gRPC Status Code Mapping"), except that the balancer's own timeouts
     * are {@code DEADLINE_EXCEEDED} and its limits {@code RESOURCE_EXHAUSTED}.
     */
    static int statusOf(HttpResponseStatus status) {
        return statusOf(status.code());
    }

    /** {@link #statusOf(HttpResponseStatus)} of a status code. */
    static int statusOf(int httpStatus) {
        return switch (httpStatus) {
            case 400 -> 13; // INTERNAL
            case 401 -> 16; // UNAUTHENTICATED
            case 403 -> 7; // PERMISSION_DENIED
            case 404 -> 12; // UNIMPLEMENTED
            case 408, 504 -> 4; // DEADLINE_EXCEEDED
            case 413, 429 -> 8; // RESOURCE_EXHAUSTED
            case 502, 503 -> UNAVAILABLE;
            default -> UNKNOWN;
        };
    }

    /** {@code message} percent-encoded for {@code grpc-message}: bytes outside printable ASCII, and '%'. */
    static String encodeMessage(String message) {
        StringBuilder out = new StringBuilder(message.length());
        for (byte b : message.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (c >= 0x20 && c <= 0x7E && c != '%') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return out.toString();
    }
}
