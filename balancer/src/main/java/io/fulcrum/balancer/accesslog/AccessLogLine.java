package io.fulcrum.balancer.accesslog;

import io.fulcrum.balancer.balancing.Backend;
import io.fulcrum.balancer.balancing.DecisionTrace;
import io.fulcrum.balancer.metrics.RequestRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The access log's two line formats, JSON (one object per line) and logfmt, appended to a
 * {@link LineBuffer} that the thread finishing requests fills and the log's writer empties.
 *
 * <p>Not thread-safe: the access log guards each buffer with a lock.
 */
final class AccessLogLine extends LineBuffer {
    // The JSON format's fixed parts, copied with one arraycopy each.
    private static final byte[] J_TIME = "{\"time\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_REQUEST_ID = "\",\"request_id\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_TRACE_ID = ",\"trace_id\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_CLIENT = ",\"client\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_METHOD = ",\"method\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_HOST = ",\"host\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_PATH = ",\"path\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_PROTOCOL = ",\"protocol\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_STATUS = ",\"status\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_GRPC_STATUS = ",\"grpc_status\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_OUTCOME = ",\"outcome\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_BYTES_IN = ",\"bytes_in\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_BYTES_OUT = ",\"bytes_out\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_DURATION_MS = ",\"duration_ms\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_TTFB_MS = ",\"ttfb_ms\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_USER_AGENT = ",\"user_agent\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_ROUTE = ",\"route\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_POOL = ",\"pool\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_BACKEND = ",\"backend\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_TRIES = ",\"tries\":[".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_TRY_BACKEND = "{\"backend\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_CONNECT_MS = ",\"connect_ms\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_FIRST_BYTE_MS = ",\"first_byte_ms\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_NULL = "null".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_DECISION = "],\"decision\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_ERROR = ",\"error\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] J_END = "}\n".getBytes(StandardCharsets.US_ASCII);

    AccessLogLine(int capacity) {
        super(capacity);
    }

    /**
     * Room for everything of a JSON line but its strings' characters and its tries: the keys and
     * punctuation (about 400 bytes), six numbers, the time and the decision's fixed parts.
     */
    private static final int JSON_FIXED = 1024;
    /** Room for one try but its two strings' characters. */
    private static final int JSON_TRY_FIXED = 256;

    /** Appends one JSON object and a newline; {@code grpc_status} only for a gRPC call that got one. */
    void json(RequestRecord r) {
        List<RequestRecord.Try> tries = r.tries();
        int count = tries.size();
        DecisionTrace d = r.decision();
        int chars = length(r.requestId()) + length(r.traceId()) + length(r.client()) + length(r.method())
                + length(r.host()) + length(r.target()) + length(r.protocol()) + length(r.outcome())
                + length(r.userAgent()) + length(r.route()) + length(r.pool()) + length(r.backend())
                + length(r.error());
        for (int i = 0; i < count; i++) {
            RequestRecord.Try t = tries.get(i);
            chars += length(t.backend()) + length(t.outcome());
        }
        if (d != null) {
            chars += decisionChars(d);
        }
        int p = length();
        byte[] b = reserve(JSON_FIXED + count * JSON_TRY_FIXED + chars * MAX_BYTES_PER_CHAR);
        p = copy(b, p, J_TIME);
        p = time(b, p, r.startEpochMillis());
        p = copy(b, p, J_REQUEST_ID);
        p = string(b, p, r.requestId());
        p = copy(b, p, J_TRACE_ID);
        p = string(b, p, r.traceId());
        p = copy(b, p, J_CLIENT);
        p = string(b, p, r.client());
        p = copy(b, p, J_METHOD);
        p = string(b, p, r.method());
        p = copy(b, p, J_HOST);
        p = string(b, p, r.host());
        p = copy(b, p, J_PATH);
        p = string(b, p, r.target());
        p = copy(b, p, J_PROTOCOL);
        p = string(b, p, r.protocol());
        p = copy(b, p, J_STATUS);
        p = number(b, p, r.status());
        if (r.grpcStatus() >= 0) {
            p = copy(b, p, J_GRPC_STATUS);
            p = number(b, p, r.grpcStatus());
        }
        p = copy(b, p, J_OUTCOME);
        p = string(b, p, r.outcome());
        p = copy(b, p, J_BYTES_IN);
        p = number(b, p, r.bytesIn());
        p = copy(b, p, J_BYTES_OUT);
        p = number(b, p, r.bytesOut());
        p = copy(b, p, J_DURATION_MS);
        p = millis(b, p, r.durationNanos());
        p = copy(b, p, J_TTFB_MS);
        p = millisOrNull(b, p, r.firstByteNanos());
        p = copy(b, p, J_USER_AGENT);
        p = string(b, p, r.userAgent());
        p = copy(b, p, J_ROUTE);
        p = string(b, p, r.route());
        p = copy(b, p, J_POOL);
        p = string(b, p, r.pool());
        p = copy(b, p, J_BACKEND);
        p = string(b, p, r.backend());
        p = copy(b, p, J_TRIES);
        for (int i = 0; i < count; i++) {
            RequestRecord.Try t = tries.get(i);
            if (i > 0) {
                b[p++] = ',';
            }
            p = copy(b, p, J_TRY_BACKEND);
            p = string(b, p, t.backend());
            p = copy(b, p, J_OUTCOME);
            p = string(b, p, t.outcome());
            p = copy(b, p, J_CONNECT_MS);
            p = millisOrNull(b, p, t.connectNanos());
            p = copy(b, p, J_FIRST_BYTE_MS);
            p = millisOrNull(b, p, t.firstByteNanos());
            p = copy(b, p, J_STATUS);
            p = t.status() != 0 ? number(b, p, t.status()) : copy(b, p, J_NULL);
            b[p++] = '}';
        }
        p = copy(b, p, J_DECISION);
        p = d == null ? copy(b, p, J_NULL) : jsonDecision(b, p, d);
        if (r.error() != null) {
            p = copy(b, p, J_ERROR);
            p = string(b, p, r.error());
        }
        p = copy(b, p, J_END);
        advance(p);
    }

    /**
     * Appends one logfmt line and a newline: the keys of the JSON format plus {@code attempts} (the
     * number of tries), tries as {@code tries="us-1:reset:-:-:0 us-2:success:0.120:1.804:200"}.
     */
    void logfmt(RequestRecord r) {
        ascii("time=");
        time(r.startEpochMillis());
        pair("request_id", r.requestId());
        pair("trace_id", r.traceId());
        pair("client", r.client());
        pair("method", r.method());
        pair("host", r.host());
        pair("path", r.target());
        pair("protocol", r.protocol());
        ascii(" status=");
        number(r.status());
        if (r.grpcStatus() >= 0) {
            ascii(" grpc_status=");
            number(r.grpcStatus());
        }
        pair("outcome", r.outcome());
        ascii(" bytes_in=");
        number(r.bytesIn());
        ascii(" bytes_out=");
        number(r.bytesOut());
        ascii(" duration_ms=");
        millis(r.durationNanos());
        ascii(" ttfb_ms=");
        millisOrDash(r.firstByteNanos());
        pair("user_agent", r.userAgent());
        pair("route", r.route());
        pair("pool", r.pool());
        pair("backend", r.backend());
        ascii(" attempts=");
        number(r.tries().size());
        ascii(" tries=");
        // Ids, outcomes and numbers hold no spaces or quotes: the list is quoted only for the spaces
        // between tries, or when it is empty.
        boolean quote = r.tries().size() != 1;
        if (quote) {
            put((byte) '"');
        }
        boolean first = true;
        for (RequestRecord.Try t : r.tries()) {
            if (!first) {
                put((byte) ' ');
            }
            first = false;
            logfmtEscaped(t.backend());
            put((byte) ':');
            logfmtEscaped(t.outcome());
            put((byte) ':');
            millisOrDash(t.connectNanos());
            put((byte) ':');
            millisOrDash(t.firstByteNanos());
            put((byte) ':');
            number(t.status());
        }
        if (quote) {
            put((byte) '"');
        }
        put((byte) ' ');
        ascii("decision=");
        logfmtDecision(r.decision());
        if (r.error() != null) {
            pair("error", r.error());
        }
        put((byte) '\n');
    }

    // ---- pieces ----

    private void pair(String key, String value) {
        put((byte) ' ');
        ascii(key);
        put((byte) '=');
        if (value == null) {
            put((byte) '-');
            return;
        }
        boolean quote = value.isEmpty();
        for (int i = 0; i < value.length() && !quote; i++) {
            char c = value.charAt(i);
            quote = c <= ' ' || c == '"' || c == '=' || c == '\\';
        }
        if (!quote) {
            utf8(value);
            return;
        }
        put((byte) '"');
        logfmtEscaped(value);
        put((byte) '"');
    }

    private void logfmtEscaped(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                put((byte) '\\');
                put((byte) c);
            } else if (c < ' ') {
                unicodeEscape(c);
            } else {
                i = utf8Char(value, i, c);
            }
        }
    }

    // The decision's fixed parts (see DecisionTrace#compact()).
    private static final byte[] D_REGION = "\"region=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] D_HEADER = "(header) pass=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] D_DEFAULT = "(default) pass=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] D_TO = " to=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] D_BACKEND = " backend=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] D_AVOIDED = " avoided=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] D_HELD_DOWN = " held-down=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] D_QUEUED = " queued=".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] D_MS = "ms".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] D_QUEUE = " queue=".getBytes(StandardCharsets.US_ASCII);

    /** The characters of the decision's variable parts (its fixed parts are in JSON_FIXED). */
    private static int decisionChars(DecisionTrace t) {
        Backend chosen = t.chosen();
        return nullable(t.clientRegion()) + t.pass().label().length()
                + (chosen == null ? 0 : nullable(chosen.region()) + nullable(chosen.id()))
                + (t.queueRefusal() == null ? 0 : t.queueRefusal().length())
                + (t.hedge() == null ? 0 : t.hedge().length());
    }

    private static int nullable(String s) {
        return s == null ? 4 : s.length();
    }

    private static String orNull(String s) {
        return s == null ? "null" : s;
    }

    /**
     * The decision trace's compact form ({@link DecisionTrace#compact()}) as a JSON string, written
     * from the trace without building the string.
     */
    private static int jsonDecision(byte[] b, int p, DecisionTrace t) {
        p = copy(b, p, D_REGION);
        p = jsonChars(b, p, orNull(t.clientRegion()));
        p = copy(b, p, t.regionSource().equals("header") ? D_HEADER : D_DEFAULT);
        p = jsonChars(b, p, t.pass().label());
        Backend chosen = t.chosen();
        if (chosen != null) {
            p = copy(b, p, D_TO);
            p = jsonChars(b, p, orNull(chosen.region()));
            p = copy(b, p, D_BACKEND);
            p = jsonChars(b, p, orNull(chosen.id()));
        }
        if (t.excluded() > 0) {
            p = copy(b, p, D_AVOIDED);
            p = number(b, p, t.excluded());
        }
        if (t.heldDown() > 0) {
            p = copy(b, p, D_HELD_DOWN);
            p = number(b, p, t.heldDown());
        }
        if (t.queuedNanos() >= 0) {
            p = copy(b, p, D_QUEUED);
            p = number(b, p, t.queuedMillis());
            p = copy(b, p, D_MS);
        }
        if (t.queueRefusal() != null) {
            p = copy(b, p, D_QUEUE);
            p = jsonChars(b, p, t.queueRefusal());
        }
        if (t.hedge() != null) {
            p = jsonChars(b, p, t.hedge());
        }
        b[p++] = '"';
        return p;
    }

    /** The decision trace's compact form as a quoted logfmt value, or {@code -} without a trace. */
    private void logfmtDecision(DecisionTrace t) {
        if (t == null) {
            put((byte) '-');
            return;
        }
        put((byte) '"');
        ascii("region=");
        logfmtEscaped(orNull(t.clientRegion()));
        ascii(t.regionSource().equals("header") ? "(header) pass=" : "(default) pass=");
        logfmtEscaped(t.pass().label());
        Backend chosen = t.chosen();
        if (chosen != null) {
            ascii(" to=");
            logfmtEscaped(orNull(chosen.region()));
            ascii(" backend=");
            logfmtEscaped(orNull(chosen.id()));
        }
        if (t.excluded() > 0) {
            ascii(" avoided=");
            number(t.excluded());
        }
        if (t.heldDown() > 0) {
            ascii(" held-down=");
            number(t.heldDown());
        }
        if (t.queuedNanos() >= 0) {
            ascii(" queued=");
            number(t.queuedMillis());
            ascii("ms");
        }
        if (t.queueRefusal() != null) {
            ascii(" queue=");
            logfmtEscaped(t.queueRefusal());
        }
        if (t.hedge() != null) {
            logfmtEscaped(t.hedge());
        }
        put((byte) '"');
    }

    private static int length(String s) {
        return s == null ? 0 : s.length();
    }

    /** A JSON string (RFC 8259), or {@code null}. */
    private static int string(byte[] b, int p, String value) {
        if (value == null) {
            return copy(b, p, J_NULL);
        }
        b[p++] = '"';
        p = jsonChars(b, p, value);
        b[p++] = '"';
        return p;
    }

    private static int millisOrNull(byte[] b, int p, long nanos) {
        return nanos < 0 ? copy(b, p, J_NULL) : millis(b, p, nanos);
    }

    private void millisOrDash(long nanos) {
        if (nanos < 0) {
            put((byte) '-');
        } else {
            millis(nanos);
        }
    }
}
