package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * Which client networks may send requests ({@code client-networks}), at the top level or a route's
 * own in its place. A client in {@code deny} is refused; with a non-empty {@code allow}, so is a
 * client in none of its networks. The client is the address that trusted edges name
 * ({@code trusted-edges}), else the connection's peer. Immutable.
 *
 * @param allow the networks whose clients pass; empty lets every client not denied pass
 * @param deny the networks whose clients are refused, even when {@code allow} names them too
 */
public record ClientNetworksConfig(List<Cidr> allow, List<Cidr> deny) {
    public ClientNetworksConfig {
        allow = List.copyOf(requireNonNull(allow, "allow"));
        deny = List.copyOf(requireNonNull(deny, "deny"));
    }
}
