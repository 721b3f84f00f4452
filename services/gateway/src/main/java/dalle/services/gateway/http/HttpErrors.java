package dalle.services.gateway.http;

import dalle.services.common.grpc.GrpcErrors;
import dalle.services.common.stage.FieldException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;
import java.util.Locale;

/**
 * Every failure of the HTTP API as OpenAI's error body: a bad field 400 with {@code param} naming it, overload
 * 429, a stage down 503, a passed deadline 504, unknown job 404, anything else 500.
 */
@Provider
public class HttpErrors implements ExceptionMapper<RuntimeException> {

    @Override
    public Response toResponse(RuntimeException e) {
        if (e instanceof WebApplicationException w) {
            return w.getResponse();
        }
        if (e instanceof FieldException f) {
            return error(400, f.getMessage(), f.field(), "invalid_request_error");
        }
        StatusRuntimeException s = GrpcErrors.toStatus(e);
        Status.Code code = s.getStatus().getCode();
        int http = switch (code) {
            case INVALID_ARGUMENT -> 400;
            case NOT_FOUND -> 404;
            case RESOURCE_EXHAUSTED -> 429;
            case UNAVAILABLE, FAILED_PRECONDITION -> 503;
            case DEADLINE_EXCEEDED -> 504;
            default -> 500;
        };
        String message = s.getStatus().getDescription() == null ? code.name() : s.getStatus().getDescription();
        String param = null;
        if (code == Status.Code.INVALID_ARGUMENT && message.contains(":")) {
            param = message.substring(0, message.indexOf(':'));
        }
        return error(http, message, param, http == 400 ? "invalid_request_error" : code.name().toLowerCase(Locale.ROOT));
    }

    /** An error response with OpenAI's body. */
    public static Response error(int status, String message, String param, String type) {
        return error(status, message, param, type, null);
    }

    /** An error response with OpenAI's body, with its {@code code}. */
    public static Response error(int status, String message, String param, String type, String code) {
        return Response.status(status).type(MediaType.APPLICATION_JSON)
                .entity(new HttpApi.ErrorBody(new HttpApi.Error(message, type, param, code))).build();
    }
}
