package io.fulcrum.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.handler.codec.http.HttpMethod;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ApiRouterTest {
    private final ApiRouter router = new ApiRouter(Set.of("app.js", "style.css"));

    @ParameterizedTest
    @CsvSource({"GET,/,PAGE,0", "GET,/app.js,ASSET,0", "POST,/posts,CREATE_POST,0", "GET,/posts/42,GET_POST,42",
        "PUT,/posts/42,UPDATE_POST,42", "DELETE,/posts/7,DELETE_POST,7", "GET,/timeline,TIMELINE,0",
        "GET,/health,HEALTH,0", "HEAD,/posts/9,GET_POST,9", "HEAD,/timeline,TIMELINE,0", "HEAD,/,PAGE,0"})
    void matchesEveryRoute(String method, String path, ApiRoute route, long id) {
        ApiRouter.Match m = router.match(HttpMethod.valueOf(method), path);
        assertEquals(new ApiRouter.Found(route, id, route == ApiRoute.ASSET ? "app.js" : null), m);
    }

    @ParameterizedTest
    @CsvSource({"/posts/", "/posts/-1", "/posts/0", "/posts/1x", "/posts/1234567890123456789", "/posts/1/x",
        "/index.html", "/POSTS", "/timeline/", "/metrics"})
    void unknownPathsAreNotFound(String path) {
        assertEquals(new ApiRouter.NotFound(), router.match(HttpMethod.GET, path));
    }

    @ParameterizedTest
    @CsvSource({"GET,/posts,POST", "HEAD,/posts,POST", "POST,/timeline,'GET, HEAD'",
        "PATCH,/posts/1,'GET, HEAD, PUT, DELETE'", "DELETE,/app.js,'GET, HEAD'"})
    void knownPathsWithAnotherMethodListTheAllowedOnes(String method, String path, String allow) {
        assertEquals(new ApiRouter.MethodNotAllowed(allow), router.match(HttpMethod.valueOf(method), path));
    }
}
