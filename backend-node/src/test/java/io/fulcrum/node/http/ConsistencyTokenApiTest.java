package io.fulcrum.node.http;

import static io.fulcrum.testing.ApiErrors.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.node.store.Post;
import io.fulcrum.testing.FreshNode;
import io.fulcrum.testing.TestHttp;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The consistency token's edges on a node without a replica (SQLite): a malformed header is the
 * client's 400, a malformed cookie is ignored, and a node that reads from its only store gives no
 * token and needs none. The replicated behaviour is proven against real PostgreSQL replicas in the
 * balancer's {@code ReplicatedPostServiceTest}.
 */
class ConsistencyTokenApiTest {
    @RegisterExtension
    final FreshNode fresh = new FreshNode();
    private final TestHttp http = fresh.http();

    @Test
    void aMalformedTokenHeaderIsA400NamingIt() {
        assertError(http.send(http.request("/timeline").header("X-Post-Version", "yesterday").build()), 400,
                "invalid_field", "X-Post-Version");
    }

    @Test
    void aMalformedCookieIsIgnored() {
        HttpResponse<String> res = http.send(http.request("/timeline")
                .header("Cookie", "other=1; fulcrum-post-version=not-a-position").build());
        assertEquals(200, res.statusCode(), res.body());
    }

    @Test
    void aNodeWithoutAReplicaAcceptsTokensAndGivesNone() {
        HttpResponse<String> created = http.postJson("/posts", "{\"author\":\"a\",\"text\":\"t\"}");
        assertEquals(201, created.statusCode());
        assertTrue(created.headers().firstValue("X-Post-Version").isEmpty());
        assertTrue(created.headers().firstValue("Set-Cookie").isEmpty());
        HttpResponse<String> read = http.send(http.request("/posts/1").header("X-Post-Version", "FF/0").build());
        assertEquals(200, read.statusCode(), "its only store has everything: " + read.body());
        assertTrue(read.headers().firstValue("X-Post-Version").isEmpty());
    }
}
