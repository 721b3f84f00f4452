package dalle.services.gateway.auth;

import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * gRPC authentication: every call but health checks and reflection needs {@code authorization: Bearer <key>}
 * metadata (UNAUTHENTICATED otherwise, before the request is read); the call then runs as the key's tenant.
 */
@GlobalInterceptor
@ApplicationScoped
public class GrpcAuth implements ServerInterceptor {

    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
            Metadata.ASCII_STRING_MARSHALLER);
    /** Set by a gateway replica that asks the replica holding a job: answer from your own state. */
    public static final Metadata.Key<String> FROM_PEER = Metadata.Key.of("dalle-from-peer",
            Metadata.ASCII_STRING_MARSHALLER);

    private final Authenticator auth;

    public GrpcAuth(Authenticator auth) {
        this.auth = auth;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        String service = call.getMethodDescriptor().getServiceName();
        if ("grpc.health.v1.Health".equals(service) || (service != null && service.startsWith("grpc.reflection."))) {
            return next.startCall(call, headers);
        }
        String authorization = headers.get(AUTHORIZATION);
        String tenant;
        try {
            Iterable<String> all = headers.getAll(AUTHORIZATION);
            if (all != null && java.util.stream.StreamSupport.stream(all.spliterator(), false).count() > 1) {
                throw new Authenticator.Unauthenticated("invalid_api_key", "more than one authorization value; "
                        + "send one 'authorization: Bearer <key>'");
            }
            tenant = auth.tenant(authorization);
        } catch (Authenticator.Unauthenticated e) {
            call.close(Status.UNAUTHENTICATED.withDescription(e.getMessage()), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        return Contexts.interceptCall(Tenants.with(new Tenants.Caller(tenant, authorization,
                headers.containsKey(FROM_PEER))), call, headers, next);
    }
}
