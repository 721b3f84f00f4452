package dalle.services.gateway.auth;

import dalle.services.gateway.http.HttpErrors;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * HTTP authentication for the API under {@code /v1/}: {@code Authorization: Bearer <key>} (401 with OpenAI's
 * error body and {@code WWW-Authenticate: Bearer} otherwise). The key's tenant is kept on the request
 * ({@link #tenant}) for the resources. The OpenAPI document under {@code /q/} stays open, as do image URLs
 * ({@code /v1/images/files/}: their unguessable, expiring ids are the credential, as OpenAI's are). Health and
 * metrics are on the management interface's own port, which this filter never sees.
 */
public class HttpAuth {

    static final String PROPERTY = "dalle.tenant";

    private final Authenticator auth;

    public HttpAuth(Authenticator auth) {
        this.auth = auth;
    }

    @ServerRequestFilter
    public Response authenticate(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if (!path.startsWith("/v1/") || path.startsWith("/v1/images/files/")) {
            return null;
        }
        String authorization = request.getHeaderString(HttpHeaders.AUTHORIZATION);
        try {
            request.setProperty(PROPERTY, new Tenants.Caller(auth.tenant(authorization), authorization, false));
            return null;
        } catch (Authenticator.Unauthenticated e) {
            return Response.fromResponse(HttpErrors.error(401, e.getMessage(), null, "invalid_request_error",
                    e.code())).header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"dalle\"").build();
        }
    }

    /** Who {@link #authenticate} found calling (its tenant null with authentication off). */
    public static Tenants.Caller caller(ContainerRequestContext request) {
        Object c = request.getProperty(PROPERTY);
        return c instanceof Tenants.Caller caller ? caller : new Tenants.Caller(null, null, false);
    }
}
