package dalle.services.gateway.auth;

import io.grpc.Context;
import java.util.function.Supplier;

/**
 * The caller's tenant while a call runs (an {@link io.grpc.Context} value, set by {@link GrpcAuth} for gRPC and by
 * the HTTP resources for HTTP, and carried into the gateway's executors), and how request ids are scoped by it.
 * Inside the pipeline (stages, topics, the status view) a tenant's request {@code job-1} is {@code acme:job-1}, so
 * two tenants may use the same id and neither can read the other's; callers only ever see their own id. With
 * authentication off there is no tenant and ids are not scoped.
 */
public final class Tenants {

    private static final Context.Key<String> TENANT = Context.key("dalle-tenant");
    private static final Context.Key<String> AUTHORIZATION = Context.key("dalle-authorization");
    private static final Context.Key<Boolean> LOCAL_ONLY = Context.key("dalle-local-only");

    /**
     * Who is calling: the tenant (null with authentication off), the credential as presented (handed on when the
     * gateway asks a peer replica on the caller's behalf), and whether the call came from a peer replica (then it is
     * answered from this replica's own state, never forwarded again).
     */
    public record Caller(String tenant, String authorization, boolean fromPeer) {
    }

    private Tenants() {
    }

    /** The running call's tenant; null with authentication off. */
    public static String current() {
        return TENANT.get();
    }

    /** The context of a call made by {@code caller}. */
    public static Context with(Caller caller) {
        return Context.current().withValues(TENANT, caller.tenant(), AUTHORIZATION, caller.authorization(),
                LOCAL_ONLY, caller.fromPeer());
    }

    /** Runs {@code call} as {@code caller}'s. */
    public static <T> T call(Caller caller, Supplier<T> call) {
        Context previous = with(caller).attach();
        try {
            return call.get();
        } finally {
            Context.current().detach(previous);
        }
    }

    /** The running call's credential as presented (its Authorization value); null when none. */
    public static String authorization() {
        return AUTHORIZATION.get();
    }

    /** Whether the running call came from a peer replica and must be answered from this replica's own state. */
    public static boolean fromPeer() {
        return Boolean.TRUE.equals(LOCAL_ONLY.get());
    }

    /** The pipeline's id of the running call's request {@code clientId}. */
    public static String scope(String clientId) {
        String tenant = current();
        return tenant == null ? clientId : tenant + ":" + clientId;
    }

    /** The caller's id of a pipeline id (what {@link #scope} made it from). */
    public static String unscope(String scopedId) {
        String tenant = current();
        if (tenant != null && scopedId.startsWith(tenant + ":")) {
            return scopedId.substring(tenant.length() + 1);
        }
        return scopedId;
    }
}
