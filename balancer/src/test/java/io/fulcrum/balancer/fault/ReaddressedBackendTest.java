package io.fulcrum.balancer.fault;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fulcrum.balancer.Balancer;
import io.fulcrum.testing.BalancerYaml;
import io.fulcrum.testing.Fixtures;
import io.fulcrum.testing.HttpLoad;
import io.fulcrum.testing.ScriptedBackend;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Issue 8 finding: a reload that keeps a backend's id but changes its URL. Afterwards no request
 * reaches the old port, and the idle pooled connections to the old address are closed (the
 * backend-idle timeout is long, so only the reload can have closed them).
 */
class ReaddressedBackendTest {
    @RegisterExtension
    final Fixtures fx = new Fixtures();

    @Test
    void afterAReloadMovesABackendNoRequestReachesTheOldPortAndItsIdleConnectionsClose() throws Exception {
        ScriptedBackend oldServer = fx.backend("old");
        ScriptedBackend newServer = fx.backend("new");
        BalancerYaml yaml = BalancerYaml.create().set("timeouts.backend-idle", "60s");
        Balancer balancer = fx.balancer(yaml.backend("b1", oldServer.port()));
        Fixtures.getsWithoutFailures(balancer, "/", 8, 200);
        assertTrue(oldServer.connectionsOpen() > 0, "pooled connections to the old address are open");
        int oldRequests = oldServer.requests();

        fx.reload(yaml.clearBackends().backend("b1", newServer.port()));
        HttpLoad.Result after = Fixtures.getsWithoutFailures(balancer, "/", 8, 200);

        assertEquals(oldRequests, oldServer.requests(), "requests reaching the old port after the reload");
        assertEquals(200, newServer.requests(), after.summary());
        await("idle connections to the old address closed").atMost(Duration.ofSeconds(10))
                .until(() -> oldServer.connectionsOpen() == 0);
    }
}
