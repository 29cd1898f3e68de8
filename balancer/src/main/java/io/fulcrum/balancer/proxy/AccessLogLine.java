package io.fulcrum.balancer.proxy;

import io.fulcrum.balancer.metrics.RequestRecord;
import io.fulcrum.balancer.routing.Backend;
import io.fulcrum.balancer.routing.DecisionTrace;
import java.nio.charset.StandardCharsets;

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

    /** Appends one JSON object and a newline. */
    void json(RequestRecord r) {
        raw(J_TIME);
        time(r.startEpochMillis());
        raw(J_REQUEST_ID);
        jsonString(r.requestId());
        raw(J_TRACE_ID);
        jsonString(r.traceId());
        raw(J_CLIENT);
        jsonString(r.client());
        raw(J_METHOD);
        jsonString(r.method());
        raw(J_HOST);
        jsonString(r.host());
        raw(J_PATH);
        jsonString(r.target());
        raw(J_PROTOCOL);
        jsonString(r.protocol());
        raw(J_STATUS);
        number(r.status());
        raw(J_OUTCOME);
        jsonString(r.outcome());
        raw(J_BYTES_IN);
        number(r.bytesIn());
        raw(J_BYTES_OUT);
        number(r.bytesOut());
        raw(J_DURATION_MS);
        millis(r.durationNanos());
        raw(J_TTFB_MS);
        millisOrNull(r.firstByteNanos());
        raw(J_USER_AGENT);
        jsonString(r.userAgent());
        raw(J_ROUTE);
        jsonString(r.route());
        raw(J_POOL);
        jsonString(r.pool());
        raw(J_BACKEND);
        jsonString(r.backend());
        raw(J_TRIES);
        boolean first = true;
        for (RequestRecord.Try t : r.tries()) {
            if (!first) {
                put((byte) ',');
            }
            first = false;
            raw(J_TRY_BACKEND);
            jsonString(t.backend());
            raw(J_OUTCOME);
            jsonString(t.outcome());
            raw(J_CONNECT_MS);
            millisOrNull(t.connectNanos());
            raw(J_FIRST_BYTE_MS);
            millisOrNull(t.firstByteNanos());
            raw(J_STATUS);
            if (t.status() != 0) {
                number(t.status());
            } else {
                raw(J_NULL);
            }
            put((byte) '}');
        }
        raw(J_DECISION);
        decision(r.decision(), true);
        if (r.error() != null) {
            raw(J_ERROR);
            jsonString(r.error());
        }
        raw(J_END);
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
        decision(r.decision(), false);
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

    /**
     * The decision trace's compact form ({@link DecisionTrace#compact()}), written from the trace
     * without building the string: a JSON string, or a quoted logfmt value; {@code null} or {@code -}
     * without a trace.
     */
    private void decision(DecisionTrace t, boolean json) {
        if (t == null) {
            if (json) {
                raw(J_NULL);
            } else {
                put((byte) '-');
            }
            return;
        }
        put((byte) '"');
        escaped("region=", json);
        escaped(t.clientRegion(), json);
        escaped(t.regionSource().equals("header") ? "(header) pass=" : "(default) pass=", json);
        escaped(t.pass().label(), json);
        Backend chosen = t.chosen();
        if (chosen != null) {
            escaped(" to=", json);
            escaped(chosen.region(), json);
            escaped(" backend=", json);
            escaped(chosen.id(), json);
        }
        if (t.excluded() > 0) {
            escaped(" avoided=", json);
            number(t.excluded());
        }
        if (t.heldDown() > 0) {
            escaped(" held-down=", json);
            number(t.heldDown());
        }
        put((byte) '"');
    }

    private void escaped(String value, boolean json) {
        if (value == null) {
            value = "null";
        }
        if (json) {
            jsonChars(value);
        } else {
            logfmtEscaped(value);
        }
    }

    /** A JSON string (RFC 8259), or {@code null}. */
    private void jsonString(String value) {
        if (value == null) {
            raw(J_NULL);
            return;
        }
        put((byte) '"');
        jsonChars(value);
        put((byte) '"');
    }

    /** The characters of a JSON string, escaped, without its quotes. */
    private void jsonChars(String value) {
        int n = value.length();
        for (int i = plainRun(value); i < n; i++) {
            char c = value.charAt(i);
            if (c >= ' ' && c < 0x7f && c != '"' && c != '\\') {
                put((byte) c);
            } else if (c == '"' || c == '\\') {
                put((byte) '\\');
                put((byte) c);
            } else if (c == '\n') {
                put((byte) '\\');
                put((byte) 'n');
            } else if (c == '\r') {
                put((byte) '\\');
                put((byte) 'r');
            } else if (c == '\t') {
                put((byte) '\\');
                put((byte) 't');
            } else if (c < ' ') {
                unicodeEscape(c);
            } else {
                i = utf8Char(value, i, c);
            }
        }
    }

    private void millisOrNull(long nanos) {
        if (nanos < 0) {
            raw(J_NULL);
        } else {
            millis(nanos);
        }
    }

    private void millisOrDash(long nanos) {
        if (nanos < 0) {
            put((byte) '-');
        } else {
            millis(nanos);
        }
    }
}
