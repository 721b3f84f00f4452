package dalle.services.gateway.grpc;

import dalle.services.gateway.GatewayCore;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Locale;

/**
 * The {@code dalle-sync-path} request header ({@code thin} or {@code relay}): the synchronous path a Generate takes
 * instead of {@code dalle.gateway.sync-path}, so that one running stack can compare both (e.g.
 * {@code dalle bench services}). Another value is INVALID_ARGUMENT before the request is read.
 */
@GlobalInterceptor
@ApplicationScoped
public class SyncPathHeader implements ServerInterceptor {

    /** The header. */
    public static final Metadata.Key<String> HEADER = Metadata.Key.of("dalle-sync-path",
            Metadata.ASCII_STRING_MARSHALLER);

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String value = headers.get(HEADER);
        if (value == null) {
            return next.startCall(call, headers);
        }
        GatewayCore.SyncPath path;
        try {
            path = GatewayCore.SyncPath.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            call.close(Status.INVALID_ARGUMENT.withDescription("header dalle-sync-path '" + value + "': expected "
                    + "thin or relay"), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        return Contexts.interceptCall(Context.current().withValue(GatewayCore.SYNC_PATH, path), call, headers, next);
    }
}
