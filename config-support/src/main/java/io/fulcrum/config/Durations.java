package io.fulcrum.config;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the config's duration syntax: a non-negative whole number followed by {@code ms}, {@code s},
 * {@code m} or {@code h}, for example {@code 250ms} or {@code 2s}. Fractions ({@code 1.5s}), signs,
 * spaces and unit-less numbers are rejected so that every duration in a file reads the same way.
 * Stateless and thread-safe.
 */
public final class Durations {
    /** The message part for text that is not a duration. */
    public static final String EXPECTED = "not a duration like 250ms, 2s, 1m";
    /** The syntax, as a JSON Schema / Java regular expression. */
    public static final String PATTERN = "[0-9]{1,18}(ms|s|m|h)";

    private static final Pattern SYNTAX = Pattern.compile("([0-9]{1,18})(ms|s|m|h)");

    private Durations() {
    }

    /**
     * The duration {@code text} denotes, or empty when it is not valid syntax or is too long to be
     * expressed in nanoseconds (Netty's timers take nanoseconds as a {@code long}).
     */
    public static Optional<Duration> parse(String text) {
        Matcher m = SYNTAX.matcher(text);
        if (!m.matches()) {
            return Optional.empty();
        }
        long amount = Long.parseLong(m.group(1));
        try {
            Duration d = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofHours(amount);
            };
            d.toNanos(); // throws when it does not fit in a long
            return Optional.of(d);
        } catch (ArithmeticException e) {
            return Optional.empty();
        }
    }

    /** Formats a duration back into config syntax, using the largest unit that is exact. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0 && ms != 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms != 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }
}
