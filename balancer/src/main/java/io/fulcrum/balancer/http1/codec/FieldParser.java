package io.fulcrum.balancer.http1.codec;

import java.nio.charset.StandardCharsets;

/**
 * Parses and validates the field lines of one header or trailer section (RFC 9110 section 5,
 * RFC 9112 section 5) in one pass over its bytes: token names, values without control characters
 * other than HTAB, no whitespace before the colon, no folding, CRLF endings; and notes what frames
 * the body (Content-Length, Transfer-Encoding). The results stay in this object until the next
 * {@link #parse}; the offsets array is new each time (a {@link RawHeaders} keeps it). Not thread
 * safe: one per decoder.
 */
final class FieldParser {
    /** Field i occupies {@code at[5i..5i+4]}: name start, name end, value start, value end, line end. */
    static final int STRIDE = 5;

    private static final byte[] CONTENT_LENGTH = "content-length".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRANSFER_ENCODING = "transfer-encoding".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TRAILER = "trailer".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CHUNKED = "chunked".getBytes(StandardCharsets.US_ASCII);

    int[] at;
    int count;
    int contentLengthFields;
    long contentLength;
    boolean badContentLength;
    boolean transferEncoding;
    boolean finalCodingChunked;
    /** How many times chunked appears among the transfer codings. */
    int chunkedCount;

    /**
     * Parses and validates the field lines of {@code head} from {@code from} to the final empty
     * line, recording their offsets and what frames the body.
     */
    void parse(byte[] head, int from, int expectedFields) {
        int[] at = new int[STRIDE * Math.max(1, expectedFields)];
        int count = 0;
        contentLengthFields = 0;
        contentLength = -1;
        badContentLength = false;
        transferEncoding = false;
        finalCodingChunked = false;
        chunkedCount = 0;
        int pos = from;
        int end = head.length - 2;
        while (pos < end) {
            int lineEnd = pos;
            while (head[lineEnd] != '\r') {
                lineEnd++;
            }
            if (head[lineEnd + 1] != '\n') {
                throw Http1Decoder.malformed("bare CR in a header field");
            }
            byte first = head[pos];
            if (first == ' ' || first == '\t') {
                // RFC 9112 section 5.2: obs-fold may be rejected, and is.
                throw Http1Decoder.malformed("folded header line");
            }
            int nameEnd = pos;
            while (nameEnd < lineEnd && FieldSyntax.TCHAR[head[nameEnd] & 0xFF]) {
                nameEnd++;
            }
            if (nameEnd == pos || nameEnd == lineEnd || head[nameEnd] != ':') {
                throw Http1Decoder.malformed("invalid header field name");
            }
            int valueStart = nameEnd + 1;
            while (valueStart < lineEnd && (head[valueStart] == ' ' || head[valueStart] == '\t')) {
                valueStart++;
            }
            for (int i = valueStart; i < lineEnd; i++) {
                if (!FieldSyntax.FIELD_BYTE[head[i] & 0xFF]) {
                    throw Http1Decoder.malformed("invalid header field value");
                }
            }
            int valueEnd = lineEnd;
            while (valueEnd > valueStart && (head[valueEnd - 1] == ' ' || head[valueEnd - 1] == '\t')) {
                valueEnd--;
            }
            if (count * STRIDE == at.length) {
                at = java.util.Arrays.copyOf(at, at.length * 2);
            }
            int k = count * STRIDE;
            at[k] = pos;
            at[k + 1] = nameEnd;
            at[k + 2] = valueStart;
            at[k + 3] = valueEnd;
            at[k + 4] = lineEnd + 2;
            count++;
            noteFraming(head, pos, nameEnd, valueStart, valueEnd);
            pos = lineEnd + 2;
        }
        this.at = at;
        this.count = count;
    }

    private void noteFraming(byte[] head, int nameStart, int nameEnd, int valueStart, int valueEnd) {
        int nameLength = nameEnd - nameStart;
        if (nameLength == CONTENT_LENGTH.length && equalsLower(head, nameStart, CONTENT_LENGTH)) {
            contentLengthFields++;
            long length = 0;
            int digits = valueEnd - valueStart;
            if (digits == 0 || digits > 18) {
                badContentLength = true;
            }
            for (int i = valueStart; i < valueEnd && !badContentLength; i++) {
                byte b = head[i];
                if (b < '0' || b > '9') {
                    badContentLength = true;
                }
                length = length * 10 + (b - '0');
            }
            contentLength = length;
        } else if (nameLength == TRANSFER_ENCODING.length && equalsLower(head, nameStart, TRANSFER_ENCODING)) {
            transferEncoding = true;
            // Each list element in turn; the final coding is the last element of the last line.
            ListElements codings = new ListElements(head, valueStart, valueEnd);
            finalCodingChunked = false;
            while (codings.next()) {
                finalCodingChunked = codings.end - codings.start == CHUNKED.length
                        && equalsLower(head, codings.start, CHUNKED);
                if (finalCodingChunked) {
                    chunkedCount++;
                }
            }
        }
    }

    /** Whether field {@code f} of {@code section} frames the message (not allowed as a trailer). */
    boolean frames(byte[] section, int f) {
        int k = f * STRIDE;
        int nameLength = at[k + 1] - at[k];
        return (nameLength == CONTENT_LENGTH.length && equalsLower(section, at[k], CONTENT_LENGTH))
                || (nameLength == TRANSFER_ENCODING.length && equalsLower(section, at[k], TRANSFER_ENCODING))
                || (nameLength == TRAILER.length && equalsLower(section, at[k], TRAILER));
    }

    static boolean equalsLower(byte[] bytes, int start, byte[] lower) {
        for (int i = 0; i < lower.length; i++) {
            byte b = bytes[start + i];
            if (b >= 'A' && b <= 'Z') {
                b += 32;
            }
            if (b != lower[i]) {
                return false;
            }
        }
        return true;
    }
}
