package io.fulcrum.balancer.config;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The opt-in debug header: a request that carries {@code request} (any value) from a client inside
 * one of the {@code trusted} networks gets the full routing decision in its response's
 * {@code X-Fulcrum-Decision} header. Off unless configured.
 *
 * @param request the request header that asks for the decision, e.g. {@code X-Fulcrum-Debug}
 * @param trusted the client networks allowed to ask; default loopback only
 */
public record DecisionHeaderConfig(String request, List<Cidr> trusted) {
    public static final List<Cidr> LOOPBACK = List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128"));

    public DecisionHeaderConfig {
        requireNonNull(request, "request");
        trusted = List.copyOf(requireNonNull(trusted, "trusted"));
    }
}
