package io.fulcrum.testing;

/**
 * The end of a test that opened several resources in its set-up, any of which may not have opened:
 * {@code @AfterEach void stop() throws Exception { Teardown.close(browser, node); }}.
 *
 * <p>Stateless and thread-safe.
 */
public final class Teardown {
    private Teardown() {
    }

    /**
     * Closes each of {@code resources} that was opened (is not null), in the order given, and every
     * one even when an earlier one fails; then throws the first failure, the others suppressed in it.
     */
    public static void close(AutoCloseable... resources) throws Exception {
        Exception failure = null;
        for (AutoCloseable r : resources) {
            if (r == null) {
                continue;
            }
            try {
                r.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
