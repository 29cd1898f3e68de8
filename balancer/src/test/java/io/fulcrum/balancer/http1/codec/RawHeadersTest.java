package io.fulcrum.balancer.http1.codec;

import static io.fulcrum.testing.WireText.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The received fields seen through Netty's header API: reads, changes and what is written. */
class RawHeadersTest {

    private static RawHeaders headers(String fields) {
        EmbeddedChannel ch = new EmbeddedChannel(Http1Codec.server(8192, 8192, 65536));
        ch.writeInbound(bytes("GET / HTTP/1.1|" + fields + "|"));
        HttpRequest r = ch.readInbound();
        ch.releaseInbound();
        ch.finishAndReleaseAll();
        return (RawHeaders) r.headers();
    }

    private static String encoded(RawHeaders h) {
        ByteBuf out = Unpooled.buffer();
        h.encode(out);
        String s = out.toString(StandardCharsets.ISO_8859_1).replace("\r\n", "|");
        out.release();
        return s;
    }

    @Test
    void readsAreCaseInsensitiveAndSeeReceivedThenAddedFields() {
        RawHeaders h = headers("Host: a|Via: 1.0 x|VIA: 1.1 y|");
        assertEquals("a", h.get("HOST"));
        assertEquals(List.of("1.0 x", "1.1 y"), h.getAll("via"));
        h.add("Via", "1.1 z");
        assertEquals(List.of("1.0 x", "1.1 y", "1.1 z"), h.getAll("Via"));
        assertEquals(4, h.size());
        assertTrue(h.contains("vIa"));
        assertNull(h.get("missing"));
    }

    @Test
    void lookupsFindEveryNameWhateverItsCaseAmongManyNamesOfEachLengthAndEnding() {
        // Names of the same length and first and last letters, and of many lengths, received and added:
        // every lookup in any case finds what is there and only that.
        StringBuilder fields = new StringBuilder();
        List<String> received = new java.util.ArrayList<>();
        for (char first = 'a'; first <= 'z'; first += 5) {
            for (int length = 1; length <= 24; length += 3) {
                String name = first + "x".repeat(Math.max(0, length - 2)) + (length > 1 ? "Q" : "");
                received.add(name);
                fields.append(name).append(": ").append(length).append('|');
            }
        }
        RawHeaders h = headers(fields.toString());
        h.add("Added-Name", "1");
        h.add(AsciiString.cached("x-added"), "2");
        for (String name : received) {
            assertTrue(h.contains(name.toUpperCase(java.util.Locale.ROOT)), name);
            assertTrue(h.contains(name.toLowerCase(java.util.Locale.ROOT)), name);
            assertFalse(h.contains(name + "z"), name);
            assertFalse(h.contains("z" + name), name);
        }
        assertEquals("1", h.get("ADDED-NAME"));
        assertEquals("2", h.get("X-Added"));
        assertFalse(h.contains("x-adder"));
        h.remove("added-NAME");
        assertFalse(h.contains("Added-Name"));
        assertEquals(received.size() + 1, h.size());
    }

    @Test
    void setReplacesEveryFieldOfTheNameAndRemoveMarksReceivedOnes() {
        RawHeaders h = headers("A: 1|B: 2|A: 3|C: 4|");
        h.remove("absent");
        h.set("a", "9");
        h.remove("C");
        assertEquals("9", h.get("A"));
        assertEquals(List.of("9"), h.getAll("A"));
        assertFalse(h.contains("c"));
        assertEquals("B: 2|a: 9|", encoded(h));
        h.clear();
        assertTrue(h.isEmpty());
        assertEquals("", encoded(h));
    }

    @Test
    void listValuesAreMatchedByElement() {
        RawHeaders h = headers("Connection: Keep-Alive , Upgrade|Transfer-Encoding: gzip,chunked|");
        assertTrue(h.containsValue("connection", "upgrade", true));
        assertTrue(h.containsValue("connection", "keep-alive", true));
        assertFalse(h.containsValue("connection", "keep-alive", false));
        assertTrue(h.containsValue("transfer-encoding", "chunked", true));
        assertFalse(h.containsValue("transfer-encoding", "chunk", true));
        h.set("Connection", "close");
        assertTrue(h.containsValue("connection", "close", true));
        assertFalse(h.containsValue("connection", "upgrade", true));
    }

    @Test
    void addedFieldsAreValidatedLikeReceivedOnes() {
        RawHeaders h = headers("Host: a|");
        assertThrows(IllegalArgumentException.class, () -> h.set("X-Bad", "a\r\nInjected: 1"));
        assertThrows(IllegalArgumentException.class, () -> h.add("Bad Name", "v"));
        assertEquals("Host: a|", encoded(h));
    }

    @Test
    void addedFieldsAreWrittenAfterTheReceivedOnesByteForByteWhateverTheirLengthOrType() {
        RawHeaders h = headers("Host: a|Accept: */*|");
        h.setChecked(AsciiString.cached("Via"), "1.1 fulcrum");
        h.add("X-Latin", "caf\u00e9");
        h.add(new StringBuilder("X-Built"), new StringBuilder("b"));
        String longer = "v".repeat(40_000);
        h.add("X-Long", longer);
        assertEquals("Host: a|Accept: */*|Via: 1.1 fulcrum|X-Latin: caf\u00e9|X-Built: b|X-Long: " + longer + "|",
                encoded(h));
        h.remove("X-Long");
        assertEquals("Host: a|Accept: */*|Via: 1.1 fulcrum|X-Latin: caf\u00e9|X-Built: b|", encoded(h));
    }

    @Test
    void aCheckedFieldReplacesEveryFieldOfItsNameLikeSet() {
        RawHeaders h = headers("Host: a|X-Forwarded-For: 10.0.0.1|x-forwarded-for: 10.0.0.2|");
        h.setChecked(AsciiString.cached("X-Forwarded-For"), "10.0.0.1, 10.0.0.2, 127.0.0.1");
        assertEquals(List.of("10.0.0.1, 10.0.0.2, 127.0.0.1"), h.getAll("x-forwarded-for"));
        assertEquals("Host: a|X-Forwarded-For: 10.0.0.1, 10.0.0.2, 127.0.0.1|", encoded(h));
    }

    @Test
    void hopByHopFieldsAndThoseNamedInConnectionGoInOnePass() {
        RawHeaders h = headers("Host: a|Connection: keep-alive, X-Secret ,host|X-Secret: s|x-secret: t|Keep-Alive: 5"
                + "|TE: trailers|Upgrade: h2c|Proxy-Connection: x|Trailer: y|X-Kept: k|");
        h.add("X-Secret", "added");
        h.removeHopByHop("connection", new CharSequence[] {"connection", "keep-alive", "proxy-connection", "te",
            "trailer", "transfer-encoding", "upgrade"}, new CharSequence[] {"host", "content-length"});
        assertEquals("Host: a|X-Kept: k|", encoded(h));
        assertEquals(2, h.size());
    }

    @Test
    void forEachFieldGivesLowerCaseNamesOfTheFieldsStillPresentInOrder() {
        RawHeaders h = headers("Content-Type: text/plain|X-Custom-Thing: Mixed Case|Gone: x|");
        h.remove("gone");
        h.add("X-Added", "v");
        StringBuilder seen = new StringBuilder();
        h.forEachField((name, value) -> seen.append(name).append('=').append(value).append(';'));
        assertEquals("content-type=text/plain;x-custom-thing=Mixed Case;x-added=v;", seen.toString());
    }
}
