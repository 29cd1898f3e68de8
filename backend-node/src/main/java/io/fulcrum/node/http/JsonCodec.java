package io.fulcrum.node.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fulcrum.node.post.InvalidInputException;
import io.fulcrum.node.store.Post;
import io.fulcrum.node.store.StoreHealth;
import io.fulcrum.node.store.WalPosition;
import io.fulcrum.node.post.TimelinePage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Set;

/**
 * Reads request bodies and writes response bodies of the post API.
 *
 * <p>Reading is strict, so that a client's mistake is reported rather than guessed at: the body must
 * be one JSON object (RFC 8259) with no trailing data and no duplicate names, every field must be
 * known to the route, and every field must have the expected type. Each failure names the field.
 *
 * <p>Thread-safe (Jackson's mapper is, once configured).
 */
public final class JsonCodec {
    private final JsonMapper mapper = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /** The fields of a create request. */
    public record NewPostBody(String author, String text) {
    }

    /** Parses a create body: {@code {"author": string, "text": string}}. Reads but does not release. */
    public NewPostBody readNewPost(ByteBuf body) {
        JsonNode root = readObject(body, Set.of("author", "text"));
        return new NewPostBody(string(root, "author"), string(root, "text"));
    }

    /** Parses an edit body: {@code {"text": string}}. Reads but does not release. */
    public String readEdit(ByteBuf body) {
        return string(readObject(body, Set.of("text")), "text");
    }

    private JsonNode readObject(ByteBuf body, Set<String> allowed) {
        JsonNode root;
        try (ByteBufInputStream in = new ByteBufInputStream(body.duplicate())) {
            root = mapper.readTree(in);
        } catch (JsonProcessingException e) {
            throw new BadJsonException(e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (root == null || root.isMissingNode()) {
            throw new BadJsonException("the body is empty");
        }
        if (!root.isObject()) {
            throw new BadJsonException("expected a JSON object");
        }
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw new UnknownFieldException(name);
            }
        }
        return root;
    }

    private static String string(JsonNode root, String field) {
        JsonNode value = root.get(field);
        if (value == null || value.isNull()) {
            throw new InvalidInputException(field, "is required");
        }
        if (!value.isTextual()) {
            throw new InvalidInputException(field, "must be a string, not " + value.getNodeType().name().toLowerCase(
                    java.util.Locale.ROOT));
        }
        return value.textValue();
    }

    /** Renders one post. */
    public byte[] post(Post post) {
        return bytes(postNode(post));
    }

    /** Renders a timeline page: {@code {"posts":[...],"nextCursor":...}}. */
    public byte[] page(TimelinePage page) {
        ObjectNode root = mapper.createObjectNode();
        ArrayNode posts = root.putArray("posts");
        for (Post p : page.posts()) {
            posts.add(postNode(p));
        }
        root.put("nextCursor", page.nextCursor());
        return bytes(root);
    }

    /** Renders the health report. */
    public byte[] health(String status, String node, String region, int inFlight, double load) {
        return health(status, node, region, inFlight, load, null);
    }

    /** Renders the health report with the replication state, when the node has a replica (else null). */
    public byte[] health(String status, String node, String region, int inFlight, double load,
            StoreHealth replication) {
        ObjectNode root = mapper.createObjectNode();
        root.put("status", status);
        root.put("node", node);
        root.put("region", region);
        root.put("inFlight", inFlight);
        // Two decimals are plenty for routing and keep the report readable.
        root.put("load", Math.round(load * 100) / 100.0);
        if (replication != null) {
            ObjectNode r = root.putObject("replication");
            r.put("primary", replication.primaryUp() ? "UP" : "DOWN");
            r.put("replica", replication.replicaUp() ? "UP" : "DOWN");
            r.put("lagMs", replication.lagMillis());
            r.put("maxLagMs", replication.maxLagMillis());
            r.put("primaryPosition", WalPosition.format(replication.primaryPosition()));
            r.put("replicaPosition", WalPosition.format(replication.replicaPosition()));
        }
        return bytes(root);
    }

    /** Renders an error body; {@code field} may be null. */
    public byte[] error(ApiError error, String detail, String field) {
        ObjectNode root = mapper.createObjectNode();
        root.put("error", error.code());
        root.put("detail", detail);
        if (field != null) {
            root.put("field", field);
        }
        return bytes(root);
    }

    private ObjectNode postNode(Post p) {
        ObjectNode n = mapper.createObjectNode();
        n.put("id", p.id());
        n.put("author", p.author());
        n.put("text", p.text());
        n.put("version", p.version());
        n.put("createdAt", p.createdAt().toString());
        n.put("updatedAt", p.updatedAt().toString());
        return n;
    }

    private byte[] bytes(JsonNode node) {
        try {
            return mapper.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serialises", e);
        }
    }

    /** The body is not a single JSON object. */
    public static final class BadJsonException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadJsonException(String detail) {
            super("not valid JSON: " + detail, null, false, false);
        }
    }

    /** The body names a field the route does not accept. */
    public static final class UnknownFieldException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        private final String field;

        UnknownFieldException(String field) {
            super("unknown field '" + field + "'", null, false, false);
            this.field = field;
        }

        /** The unknown field's name. */
        public String field() {
            return field;
        }
    }
}
