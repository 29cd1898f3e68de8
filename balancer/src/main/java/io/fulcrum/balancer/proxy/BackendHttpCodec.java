package io.fulcrum.balancer.proxy;

import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The HTTP/1.1 client codec of a backend connection: Netty's response decoder and request encoder,
 * with the request methods remembered so that the response to a HEAD is known to have no body (as
 * Netty's {@code HttpClientCodec} does), and a status line whose status code is not exactly three
 * digits refused as malformed (RFC 9112 section 4: {@code status-code = 3DIGIT}; Netty's decoder
 * would read {@code 0200} or {@code +200} as 200). The range 100-599 is checked by the exchange.
 * CONNECT and protocol upgrades are never sent to backends, so neither is handled here.
 *
 * <p>Not thread safe: confined to the channel's event loop.
 */
final class BackendHttpCodec extends CombinedChannelDuplexHandler<HttpResponseDecoder, HttpRequestEncoder> {
    /** Methods of the requests sent whose final response has not been decoded yet. */
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);

    BackendHttpCodec(HttpDecoderConfig config) {
        init(new Decoder(config), new Encoder());
    }

    private final class Encoder extends HttpRequestEncoder {
        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof HttpRequest) {
                methods.add(((HttpRequest) msg).method());
            }
            super.encode(ctx, msg, out);
        }
    }

    private final class Decoder extends HttpResponseDecoder {
        Decoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected HttpMessage createMessage(String[] initialLine) {
            String code = initialLine[1];
            if (code.length() != 3 || !isDigit(code.charAt(0)) || !isDigit(code.charAt(1)) || !isDigit(code.charAt(2))) {
                // Thrown here, the decoder marks the message as failed; the exchange answers 502.
                throw new IllegalArgumentException("status code is not three digits: " + code);
            }
            return super.createMessage(initialLine);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            int code = ((HttpResponse) msg).status().code();
            if (code >= 100 && code < 200) {
                // An interim response; the final one for the same request follows.
                return super.isContentAlwaysEmpty(msg);
            }
            HttpMethod method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }
    }
}
