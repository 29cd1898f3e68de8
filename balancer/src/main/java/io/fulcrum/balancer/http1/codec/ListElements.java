package io.fulcrum.balancer.http1.codec;

/**
 * Walks the elements of a comma-separated field value held as bytes (RFC 9110 section 5.6.1):
 * each element trimmed of spaces and tabs, empty elements skipped. After {@link #next()} returns
 * true, {@link #start} and {@link #end} delimit the element. Not thread safe; one walk per instance.
 */
final class ListElements {
    private final byte[] bytes;
    private final int limit;
    private int position;
    int start;
    int end;

    ListElements(byte[] bytes, int from, int to) {
        this.bytes = bytes;
        this.position = from;
        this.limit = to;
    }

    boolean next() {
        while (position <= limit) {
            int e = position;
            while (e < limit && bytes[e] != ',') {
                e++;
            }
            int s = position;
            int t = e;
            while (s < t && (bytes[s] == ' ' || bytes[s] == '\t')) {
                s++;
            }
            while (t > s && (bytes[t - 1] == ' ' || bytes[t - 1] == '\t')) {
                t--;
            }
            position = e + 1;
            if (t > s) {
                start = s;
                end = t;
                return true;
            }
        }
        return false;
    }
}
