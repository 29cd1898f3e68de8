package io.fulcrum.config;

import java.util.Collection;
import java.util.Locale;

/**
 * The "did you mean" of config messages: the known word closest to a misspelt one, when one is
 * close enough to be the word meant ({@code polciy}, {@code maxInFlight}). Stateless and
 * thread-safe.
 */
final class DidYouMean {
    private DidYouMean() {
    }

    /**
     * A "did you mean" suffix naming the candidate closest to {@code word}, when one is close: same
     * letters ignoring case and separators ({@code maxInFlight}), or within a small edit distance.
     * Empty when none is.
     */
    static String hint(String word, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String squashed = squash(word);
        for (String c : candidates) {
            int d = squash(c).equals(squashed) ? 0 : editDistance(word.toLowerCase(Locale.ROOT), c);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        int allowed = Math.max(1, Math.min(3, word.length() / 3));
        return best != null && bestDistance <= allowed ? ", did you mean \"" + best + "\"?" : "";
    }

    private static String squash(String s) {
        return s.replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
    }

    /** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("polciy"). */
    static int editDistance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
