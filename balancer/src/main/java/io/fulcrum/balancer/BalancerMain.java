package io.fulcrum.balancer;

public final class BalancerMain {
    public static void main(String[] args) {
    }
}
