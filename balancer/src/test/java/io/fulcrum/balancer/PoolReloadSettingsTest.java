package io.fulcrum.balancer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which pool settings a reload cannot apply to a running pool, and says so. */
class PoolReloadSettingsTest {
    private static BalancerConfig config(String webHealth, String extraPool) throws ConfigException {
        return ConfigLoader.parse("""
                pools:
                  web:
                    backends: [{ id: w1, url: "http://127.0.0.1:9001" }]
                    health: { interval: %s }
                    retry: { attempts: 1 }
                %s
                default-pool: web
                """.formatted(webHealth, extraPool), "test.yaml");
    }

    @Test
    void aRunningPoolsHealthChangeNeedsARestartButANewPoolsOwnDoesNot() throws ConfigException {
        BalancerConfig before = config("2s", "");
        BalancerConfig after = config("5s", """
                  api:
                    backends: [{ id: a1, url: "http://127.0.0.1:9002" }]
                    health: { interval: 1s }
                """);
        assertEquals(List.of("pools.web.health"), ConfigReloader.restartNeeded(before, after));
        assertEquals(List.of(), ConfigReloader.restartNeeded(before, config("2s", "")));
    }
}
