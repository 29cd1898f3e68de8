package io.fulcrum.balancer.admin;

import java.time.Instant;
import java.util.List;

/**
 * How one config reload ended. Immutable.
 *
 * @param applied whether the new config is in force (also {@code true} when it was unchanged)
 * @param generation the backend snapshot generation in force afterwards
 * @param problems why the file was rejected, one line each; empty when applied
 * @param restartNeeded settings that differ from the ones the process started with and only take
 *     effect after a restart
 * @param trigger what started the reload ({@code admin}, {@code SIGHUP}, {@code file change})
 * @param at when it finished
 */
public record ReloadResult(boolean applied, long generation, List<String> problems, List<String> restartNeeded,
        String trigger, Instant at) {
    public ReloadResult {
        problems = List.copyOf(problems);
        restartNeeded = List.copyOf(restartNeeded);
    }
}
