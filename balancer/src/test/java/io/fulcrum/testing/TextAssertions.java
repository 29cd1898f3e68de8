package io.fulcrum.testing;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Assertions on text a test captured (a log line, a scrape, the bytes sent to a backend) that
 * check several parts of it at once, as a list instead of one statement per part. A failure names
 * the part and shows the whole text. Stateless.
 */
public final class TextAssertions {
    private TextAssertions() {
    }

    /** Fails unless {@code text} contains each of {@code parts}. */
    public static void assertContainsAll(String text, String... parts) {
        for (String part : parts) {
            if (!text.contains(part)) {
                fail("expected " + quoted(part) + " in:\n" + text);
            }
        }
    }

    /** Fails if {@code text} contains any of {@code parts}. */
    public static void assertContainsNone(String text, String... parts) {
        for (String part : parts) {
            if (text.contains(part)) {
                fail("did not expect " + quoted(part) + " in:\n" + text);
            }
        }
    }

    private static String quoted(String part) {
        return "\"" + part.replace("\r", "\\r").replace("\n", "\\n") + "\"";
    }
}
