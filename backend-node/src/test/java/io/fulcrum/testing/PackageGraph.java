package io.fulcrum.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Which package of a source tree names which other, read from the source text: imports, static
 * imports and names written out in full (in code or in Javadoc), so that a dependency no import
 * shows still counts. Same-package names need no import and tie nothing.
 */
public final class PackageGraph {
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    /** A qualified name: lower-case segments up to the first upper-case one (the type). */
    private static final Pattern QUALIFIED = Pattern.compile("\\b(io\\.fulcrum(?:\\.[a-z0-9_]+)*)\\.[A-Z]");

    /** package -> package it names -> the first place that names it ({@code File.java:line}). */
    private final Map<String, Map<String, String>> edges = new TreeMap<>();

    private PackageGraph() {
    }

    /** The graph of every {@code .java} file below {@code sourceRoot}. */
    public static PackageGraph read(Path sourceRoot) {
        PackageGraph graph = new PackageGraph();
        try (Stream<Path> files = Files.walk(sourceRoot)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                graph.add(file, Files.readString(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return graph;
    }

    private void add(Path file, String text) {
        Matcher pkg = PACKAGE.matcher(text);
        if (!pkg.find()) {
            return;
        }
        String from = pkg.group(1);
        Map<String, String> out = edges.computeIfAbsent(from, k -> new TreeMap<>());
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].startsWith("package ")) {
                continue;
            }
            Matcher m = QUALIFIED.matcher(lines[i]);
            while (m.find()) {
                String to = m.group(1);
                if (!to.equals(from)) {
                    out.putIfAbsent(to, file.getFileName() + ":" + (i + 1));
                }
            }
        }
    }

    /** The packages that {@code from} names, each with the first place that names it. */
    public Map<String, String> namedBy(String from) {
        return edges.getOrDefault(from, Map.of());
    }

    /**
     * Every cycle between packages (a strongly connected set of two or more), each as the lines
     * {@code a -> b (File.java:line)} of its edges; empty when data flows one way.
     */
    public List<List<String>> cycles() {
        List<List<String>> found = new ArrayList<>();
        for (Set<String> component : components()) {
            List<String> ties = new ArrayList<>();
            for (String a : component) {
                namedBy(a).forEach((b, where) -> {
                    if (component.contains(b)) {
                        ties.add(a + " -> " + b + " (" + where + ")");
                    }
                });
            }
            found.add(ties);
        }
        return found;
    }

    /** Tarjan's strongly connected components, iterative; only those of two or more packages. */
    private List<Set<String>> components() {
        Map<String, Integer> index = new HashMap<>();
        Map<String, Integer> low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new HashSet<>();
        List<Set<String>> result = new ArrayList<>();
        int[] next = {0};
        for (String root : edges.keySet()) {
            if (!index.containsKey(root)) {
                strongConnect(root, index, low, stack, onStack, result, next);
            }
        }
        return result;
    }

    private void strongConnect(String v, Map<String, Integer> index, Map<String, Integer> low, Deque<String> stack,
            Set<String> onStack, List<Set<String>> result, int[] next) {
        index.put(v, next[0]);
        low.put(v, next[0]);
        next[0]++;
        stack.push(v);
        onStack.add(v);
        for (String w : namedBy(v).keySet()) {
            if (!index.containsKey(w)) {
                strongConnect(w, index, low, stack, onStack, result, next);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> component = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                component.add(w);
            } while (!w.equals(v));
            if (component.size() > 1) {
                result.add(component);
            }
        }
    }
}
