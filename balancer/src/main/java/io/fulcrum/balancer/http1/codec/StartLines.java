package io.fulcrum.balancer.http1.codec;

import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** The parts of request and status lines (RFC 9112 sections 3 and 4), from bytes. Stateless. */
final class StartLines {
    private static final byte[] HTTP_1_1 = "HTTP/1.1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP_1_0 = "HTTP/1.0".getBytes(StandardCharsets.US_ASCII);
    private static final HttpMethod[] COMMON_METHODS = {
        HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.HEAD, HttpMethod.DELETE,
        HttpMethod.PATCH, HttpMethod.OPTIONS, HttpMethod.TRACE, HttpMethod.CONNECT,
    };

    private StartLines() {
    }

    static HttpVersion version(byte[] bytes, int start, int end) {
        int length = end - start;
        if (length != 8) {
            return null;
        }
        if (java.util.Arrays.equals(bytes, start, end, HTTP_1_1, 0, 8)) {
            return HttpVersion.HTTP_1_1;
        }
        if (java.util.Arrays.equals(bytes, start, end, HTTP_1_0, 0, 8)) {
            return HttpVersion.HTTP_1_0;
        }
        if (java.util.Arrays.equals(bytes, start, start + 5, HTTP_1_1, 0, 5) && isDigit(bytes[start + 5])
                && bytes[start + 6] == '.' && isDigit(bytes[start + 7])) {
            return HttpVersion.valueOf(new String(bytes, start, length, StandardCharsets.US_ASCII));
        }
        return null;
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    static HttpMethod method(byte[] head, int length) {
        for (HttpMethod m : COMMON_METHODS) {
            byte[] name = m.asciiName().array();
            int offset = m.asciiName().arrayOffset();
            if (m.asciiName().length() == length && java.util.Arrays.equals(head, 0, length, name, offset, offset + length)) {
                return m;
            }
        }
        return HttpMethod.valueOf(new String(head, 0, length, StandardCharsets.US_ASCII));
    }

    static HttpResponseStatus status(int code, byte[] head, int reasonStart, int reasonEnd) {
        HttpResponseStatus standard = HttpResponseStatus.valueOf(code);
        String phrase = standard.reasonPhrase();
        int length = reasonEnd - reasonStart;
        if (phrase.length() == length) {
            boolean same = true;
            for (int i = 0; i < length && same; i++) {
                same = head[reasonStart + i] == phrase.charAt(i);
            }
            if (same) {
                return standard;
            }
        }
        return new HttpResponseStatus(code, new String(head, reasonStart, length, StandardCharsets.ISO_8859_1));
    }
}
