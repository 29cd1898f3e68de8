package io.fulcrum.balancer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.fulcrum.balancer.config.BalancerConfig;
import io.fulcrum.balancer.config.BalancerSchema;
import io.fulcrum.balancer.config.ConfigException;
import io.fulcrum.balancer.config.ConfigLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which changed settings a reload reports as needing a restart: those BalancerSchema marks so. */
class RestartSettingsTest {
    private static BalancerConfig config(String extra) throws ConfigException {
        return ConfigLoader.parse("backends: [{ id: a, url: \"http://127.0.0.1:9001\" }]\n" + extra, "test.yaml");
    }

    @Test
    void theSchemaDeclaresWhichSettingsNeedARestart() {
        assertEquals(List.of("listen", "admin.host", "admin.port", "health", "outlier", "timeouts.connect",
                "timeouts.client-idle", "timeouts.request-head", "timeouts.backend-idle", "limits.max-header-bytes", "limits.max-uri-bytes",
                "access-log", "transport", "tls.listen", "tls.ocsp-stapling", "backend-tls", "redis"), BalancerSchema.restartSettings());
        assertEquals(List.of("health", "outlier"), BalancerSchema.poolRestartSettings());
    }

    @Test
    void changedRestartSettingsAreNamedInFileOrderAndLiveOnesAreNot() throws ConfigException {
        BalancerConfig before = config("");
        BalancerConfig after = config("""
                limits: { max-uri-bytes: 4096, max-connections: 5 }
                timeouts: { connect: 2s, response: 5s }
                admin: { port: 9999, token: "0123456789abcdef" }
                listen: { port: 8000 }
                retry: { attempts: 1 }
                health: { rise: 5 }
                """);
        assertEquals(List.of("listen", "admin.port", "health", "timeouts.connect", "limits.max-uri-bytes"),
                ConfigReloader.restartNeeded(before, after));
        assertEquals(List.of(), ConfigReloader.restartNeeded(before, config("""
                timeouts: { response: 5s, drain: 1s, tunnel-idle: 2m }
                limits: { max-body-bytes: 10, max-connections: 5 }
                backend-header: X-Backend
                access-log-format: logfmt
                """)));
    }
}
