package io.fulcrum.testing;

import static org.junit.jupiter.api.Assertions.fail;

import io.fulcrum.balancer.connections.Transport;
import io.netty.channel.epoll.Epoll;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * The socket transports a balancer can run on, for tests that run on each. A native transport
 * this host lacks skips the test with the library's reason, unless
 * {@code FULCRUM_REQUIRE_NATIVE_TRANSPORTS=1} (CI), which makes that a failure.
 */
public final class Transports {
    /** Every transport, in the order {@code transport: auto} prefers them. */
    public static final List<String> ALL = List.of("io_uring", "epoll", "nio");

    private Transports() {
    }

    /** Skips (or, under CI, fails) the calling test when {@code transport} cannot run here. */
    public static void assumeAvailable(String transport) {
        Throwable missing = switch (transport) {
            case "io_uring" -> Transport.ioUringAvailable() ? null : Transport.ioUringUnavailabilityCause();
            case "epoll" -> Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
            case "nio" -> null;
            default -> throw new IllegalArgumentException("no transport " + transport);
        };
        if (missing == null) {
            return;
        }
        String message = transport + " is not available here: " + missing;
        if ("1".equals(System.getenv("FULCRUM_REQUIRE_NATIVE_TRANSPORTS"))) {
            fail(message + "; FULCRUM_REQUIRE_NATIVE_TRANSPORTS=1 makes this a failure");
        }
        Assumptions.abort("Skipping: " + message + "; set FULCRUM_REQUIRE_NATIVE_TRANSPORTS=1 to make this a failure");
    }
}
