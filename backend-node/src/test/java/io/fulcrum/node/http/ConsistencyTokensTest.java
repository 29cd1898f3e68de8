package io.fulcrum.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.fulcrum.node.post.InvalidInputException;
import io.fulcrum.node.store.Post;
import io.fulcrum.node.store.WalPosition;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reading the token from a request and writing the next one into the answer. */
class ConsistencyTokensTest {
    private static final ApiResponse OK = ApiResponse.json(HttpResponseStatus.OK, new byte[] {'{', '}'},
            Map.of("ETag", "\"1\""));

    private static HttpHeaders headers(String... nameValues) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        return h;
    }

    @Test
    void theLaterOfHeaderAndCookieIsRequired() {
        ConsistencyTokens.Token t = ConsistencyTokens.of(headers("X-Post-Version", "0/20",
                "Cookie", "a=b; fulcrum-post-version=0/30"));
        assertEquals(WalPosition.parse("0/30"), t.position().required());
        assertEquals(WalPosition.parse("0/30"), t.cookie());
        t = ConsistencyTokens.of(headers("X-Post-Version", "1/0", "Cookie", "fulcrum-post-version=0/30"));
        assertEquals(WalPosition.parse("1/0"), t.position().required());
        assertEquals(0, ConsistencyTokens.of(headers()).position().required());
    }

    @Test
    void aBadHeaderIsTheClientsErrorABadCookieIsNot() {
        assertThrows(InvalidInputException.class, () -> ConsistencyTokens.of(headers("X-Post-Version", "0-20")));
        assertEquals(0, ConsistencyTokens.of(headers("Cookie", "fulcrum-post-version=%%")).position().required());
    }

    @Test
    void theAnswerCarriesTheNextTokenAndSetsTheCookieOnlyWhenItMoved() {
        ConsistencyTokens.Token t = ConsistencyTokens.of(headers("Cookie", "fulcrum-post-version=0/30"));
        t.position().observe(WalPosition.parse("0/40"));
        ApiResponse moved = ConsistencyTokens.stamp(OK, t);
        assertEquals("0/40", moved.headers().get("X-Post-Version"));
        assertEquals("fulcrum-post-version=0/40; Path=/; Max-Age=86400; HttpOnly; SameSite=Lax",
                moved.headers().get("set-cookie"));
        assertEquals("\"1\"", moved.headers().get("ETag"), "the route's own headers stay");

        ConsistencyTokens.Token same = ConsistencyTokens.of(headers("Cookie", "fulcrum-post-version=0/40"));
        same.position().observe(WalPosition.parse("0/40"));
        ApiResponse unchanged = ConsistencyTokens.stamp(OK, same);
        assertEquals("0/40", unchanged.headers().get("X-Post-Version"));
        assertFalse(unchanged.headers().containsKey("set-cookie"));
    }

    @Test
    void withoutAPositionTheAnswerIsUntouched() {
        assertSame(OK, ConsistencyTokens.stamp(OK, ConsistencyTokens.of(headers("X-Post-Version", "0/1"))));
    }
}
