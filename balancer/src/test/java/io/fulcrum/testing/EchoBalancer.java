package io.fulcrum.testing;

import io.fulcrum.balancer.Balancer;
import java.time.Duration;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One echo backend ({@link ScriptedBackend#echo}) behind a balancer with one event loop, started
 * once for a test class and stopped after its last test: for the protocol tests whose cases each
 * open their own connection and leave nothing behind. Register it on a static field:
 * <pre>{@code @RegisterExtension static final EchoBalancer proxy = new EchoBalancer();}</pre>
 *
 * <p>Started and stopped by JUnit; its accessors may be read from any test thread.
 */
public final class EchoBalancer implements BeforeAllCallback, AfterAllCallback {
    private volatile ScriptedBackend backend;
    private volatile Balancer balancer;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        backend = ScriptedBackend.echo("only");
        balancer = new Balancer(BalancerYaml.forProxy().backend(backend.port()).config(), 1).start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            if (balancer != null) {
                balancer.stop(Duration.ZERO);
            }
        } finally {
            if (backend != null) {
                backend.close();
            }
        }
    }

    /** The balancer's HTTP port. */
    public int port() {
        return balancer.port();
    }

    /** The one backend, which echoes each request it is sent. */
    public ScriptedBackend backend() {
        return backend;
    }
}
