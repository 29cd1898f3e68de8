package io.fulcrum.balancer.http1;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayDeque;

/** Adds the HTTP/1.1 decoder and encoder of one side of the balancer to a pipeline. */
public final class Http1Codec {
    private Http1Codec() {
    }

    /** A client connection's decoder and encoder, in pipeline order. */
    public static ChannelHandler[] server(int maxLineBytes, int maxHeaderBytes, int maxChunkBytes) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);
        return new ChannelHandler[] {
            new Http1Decoder(true, maxLineBytes, maxHeaderBytes, maxChunkBytes, methods),
            new Http1Encoder(true, methods),
        };
    }

    /** A backend connection's decoder and encoder, in pipeline order. */
    public static ChannelHandler[] client(int maxLineBytes, int maxHeaderBytes, int maxChunkBytes) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
        return new ChannelHandler[] {
            new Http1Decoder(false, maxLineBytes, maxHeaderBytes, maxChunkBytes, methods),
            new Http1Encoder(false, methods),
        };
    }

    /** A client connection's codec: requests in, responses out. */
    public static ChannelPipeline addServer(ChannelPipeline pipeline, int maxLineBytes, int maxHeaderBytes,
            int maxChunkBytes) {
        return addServer(pipeline, maxLineBytes, maxHeaderBytes, maxChunkBytes, null);
    }

    /**
     * A client connection's codec, which hands a connection that starts with HTTP/2's preface to
     * {@code onHttp2Preface} (see {@link Http1Decoder}).
     */
    public static ChannelPipeline addServer(ChannelPipeline pipeline, int maxLineBytes, int maxHeaderBytes,
            int maxChunkBytes, java.util.function.Consumer<ChannelPipeline> onHttp2Preface) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);
        return pipeline
                .addLast("decoder", new Http1Decoder(true, maxLineBytes, maxHeaderBytes, maxChunkBytes, methods,
                        onHttp2Preface))
                .addLast("encoder", new Http1Encoder(true, methods));
    }

    /** A backend connection's codec: requests out, responses in. */
    public static ChannelPipeline addClient(ChannelPipeline pipeline, int maxLineBytes, int maxHeaderBytes,
            int maxChunkBytes) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
        return pipeline
                .addLast("decoder", new Http1Decoder(false, maxLineBytes, maxHeaderBytes, maxChunkBytes, methods))
                .addLast("encoder", new Http1Encoder(false, methods));
    }
}
