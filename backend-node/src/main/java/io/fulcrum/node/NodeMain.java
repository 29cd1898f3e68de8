package io.fulcrum.node;

public final class NodeMain {
    public static void main(String[] args) {
    }
}
