package io.fulcrum.node.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The timeline page's files, read once from the jar's {@code web/} resources at start-up so that
 * serving them never touches the file system on an event loop.
 *
 * <p>Immutable and thread-safe.
 */
public final class StaticAssets {
    /** One file and its media type. */
    public record Asset(String contentType, byte[] body) {
    }

    private final Map<String, Asset> assets;

    private StaticAssets(Map<String, Asset> assets) {
        this.assets = Map.copyOf(assets);
    }

    /** Loads the page, its script and its style sheet. */
    public static StaticAssets load() {
        return new StaticAssets(Map.of(
                "index.html", read("index.html", "text/html; charset=utf-8"),
                "app.js", read("app.js", "text/javascript; charset=utf-8"),
                "style.css", read("style.css", "text/css; charset=utf-8")));
    }

    /** The asset named {@code name} ({@code index.html} for the page itself), or null. */
    public Asset get(String name) {
        return assets.get(name);
    }

    /** The names served at the root besides the page. */
    public java.util.Set<String> rootNames() {
        return java.util.Set.of("app.js", "style.css");
    }

    private static Asset read(String name, String type) {
        try (InputStream in = StaticAssets.class.getClassLoader().getResourceAsStream("web/" + name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource web/" + name);
            }
            return new Asset(type, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
