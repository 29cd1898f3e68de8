package io.fulcrum.node.http;

/**
 * Every endpoint of the post server. {@link #pattern()} is the low-cardinality route name used as the
 * {@code route} tag of request metrics (never the raw path, which would carry post ids).
 */
public enum ApiRoute {
    /** GET / : the timeline page. */
    PAGE("/"),
    /** GET /app.js, /style.css : the page's script and style sheet. */
    ASSET("/{asset}"),
    /** POST /posts. */
    CREATE_POST("/posts"),
    /** GET /posts/{id}. */
    GET_POST("/posts/{id}"),
    /** PUT /posts/{id}. */
    UPDATE_POST("/posts/{id}"),
    /** DELETE /posts/{id}. */
    DELETE_POST("/posts/{id}"),
    /** GET /timeline. */
    TIMELINE("/timeline"),
    /** GET /events : the live timeline, Server-Sent Events. */
    EVENTS("/events"),
    /** GET /health. */
    HEALTH("/health"),
    /** Any request that matched no route (404, 405, unparseable). */
    UNMATCHED("unmatched");

    private final String pattern;

    ApiRoute(String pattern) {
        this.pattern = pattern;
    }

    /** The route's path pattern. */
    public String pattern() {
        return pattern;
    }
}
