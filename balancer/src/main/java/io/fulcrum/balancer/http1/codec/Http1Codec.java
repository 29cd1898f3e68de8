package io.fulcrum.balancer.http1.codec;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMethod;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/** Adds the HTTP/1.1 decoder and encoder of one side of the balancer to a pipeline. */
public final class Http1Codec {
    private Http1Codec() {
    }

    /** A client connection's decoder and encoder, in pipeline order. */
    public static ChannelHandler[] server(int maxLineBytes, int maxHeaderBytes, int maxChunkBytes) {
        return pair(true, maxLineBytes, maxHeaderBytes, maxChunkBytes, null);
    }

    /** A backend connection's decoder and encoder, in pipeline order. */
    public static ChannelHandler[] client(int maxLineBytes, int maxHeaderBytes, int maxChunkBytes) {
        return pair(false, maxLineBytes, maxHeaderBytes, maxChunkBytes, null);
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
            int maxChunkBytes, Consumer<ChannelPipeline> onHttp2Preface) {
        ChannelHandler[] codec = pair(true, maxLineBytes, maxHeaderBytes, maxChunkBytes, onHttp2Preface);
        return pipeline.addLast("decoder", codec[0]).addLast("encoder", codec[1]);
    }

    /** A backend connection's codec: requests out, responses in. */
    public static ChannelPipeline addClient(ChannelPipeline pipeline, int maxLineBytes, int maxHeaderBytes,
            int maxChunkBytes) {
        ChannelHandler[] codec = pair(false, maxLineBytes, maxHeaderBytes, maxChunkBytes, null);
        return pipeline.addLast("decoder", codec[0]).addLast("encoder", codec[1]);
    }

    /** A decoder and an encoder sharing the queue of request methods (so HEAD answers have no body). */
    private static ChannelHandler[] pair(boolean server, int maxLineBytes, int maxHeaderBytes, int maxChunkBytes,
            Consumer<ChannelPipeline> onHttp2Preface) {
        ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);
        return new ChannelHandler[] {
            new Http1Decoder(server, maxLineBytes, maxHeaderBytes, maxChunkBytes, methods, onHttp2Preface),
            new Http1Encoder(server, methods),
        };
    }
}
