package dalle.services.gateway.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Singleton;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * 413 over {@code quarkus.http.limits.max-body-size} in OpenAI's error body. Quarkus answers a declared
 * Content-Length over the limit with an empty 413 in a route of its own (order -2), before JAX-RS and its
 * exception mappers; this route runs just before it and answers the same, with the body. It sends no
 * {@code 100 Continue}, so a client that asks first (curl does for large bodies) never uploads the body.
 */
@Singleton
public class BodyLimit {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Optional<MemorySize> limit;

    public BodyLimit(@ConfigProperty(name = "quarkus.http.limits.max-body-size") Optional<MemorySize> limit) {
        this.limit = limit;
    }

    void route(@Observes Router router) {
        if (limit.isEmpty()) {
            return;
        }
        long max = limit.get().asLongValue();
        router.route().order(-3).handler(ctx -> {
            String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            long declared;
            try {
                declared = length == null ? -1 : Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                declared = -1; // Quarkus's own handling decides
            }
            if (declared <= max) {
                ctx.next();
                return;
            }
            String body;
            try {
                body = JSON.writeValueAsString(tooLarge(declared, max));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            // as Quarkus's own: the unread body ends the connection once the answer is out
            ctx.response().setStatusCode(413).putHeader(HttpHeaders.CONNECTION, "close")
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .endHandler(v -> ctx.request().connection().close()).end(body);
        });
    }

    /** The body of a 413: how large the request was (-1: unknown) and the limit. */
    static HttpApi.ErrorBody tooLarge(long bytes, long max) {
        return new HttpApi.ErrorBody(new HttpApi.Error("the request body" + (bytes < 0 ? "" : " of " + bytes
                + " bytes") + " is over this server's limit of " + max + " bytes", "invalid_request_error", null,
                "request_too_large"));
    }
}
