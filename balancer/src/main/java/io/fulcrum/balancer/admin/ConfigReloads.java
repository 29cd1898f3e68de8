package io.fulcrum.balancer.admin;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

/**
 * What the admin API needs of config reloading: trigger one ({@code POST /reload}) and report the
 * last one ({@code GET /config/status}). Implementations are thread-safe; reloads run on the
 * control thread, never on the admin event loop.
 */
public interface ConfigReloads {
    /** The config file that is re-read. */
    Path file();

    /** How the last reload ended, or {@code null} before the first. */
    ReloadResult lastResult();

    /** Queues a reload; the future completes with its result. */
    CompletableFuture<ReloadResult> reload(String trigger);
}
