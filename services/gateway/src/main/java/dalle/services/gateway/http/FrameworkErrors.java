package dalle.services.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Request;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * The errors the framework raises before a resource runs, in OpenAI's error body as the API's own errors
 * ({@link HttpErrors}) are: no such path 404 and a method the path does not take 405 ("Invalid URL (POST /v1/x)",
 * as OpenAI says), a Content-Type other than JSON 415, an Accept it cannot serve 406, a body that is not JSON (or
 * not the expected JSON) 400. A response that already carries a body is left as it is; headers such as
 * {@code Allow} or {@code WWW-Authenticate} are kept. (413 over the body limit is answered before JAX-RS: see
 * {@link BodyLimit}.)
 */
public class FrameworkErrors {

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e, UriInfo uri, Request request, HttpHeaders headers) {
        Response r = e.getResponse();
        if (r.hasEntity()) {
            return r;
        }
        if (e.getCause() instanceof JsonProcessingException json) {
            return json(json);
        }
        int status = r.getStatus();
        String where = request.getMethod() + " " + uri.getRequestUri().getRawPath();
        String message = switch (status) {
            case 404 -> "Invalid URL (" + where + ")";
            case 405 -> "Invalid URL (" + where + "): this path does not take " + request.getMethod()
                    + (r.getAllowedMethods().isEmpty() ? "" : "; it takes " + String.join(", ",
                    r.getAllowedMethods()));
            case 406 -> "cannot answer " + where + " with the type the Accept header asks for (" +
                    headers.getHeaderString(HttpHeaders.ACCEPT) + "); accept application/json";
            case 415 -> "unsupported Content-Type '" + headers.getHeaderString(HttpHeaders.CONTENT_TYPE) + "' for "
                    + where + "; send application/json";
            default -> e.getMessage() == null ? r.getStatusInfo().getReasonPhrase() : e.getMessage();
        };
        Response body = HttpErrors.error(status, message, null, status < 500 ? "invalid_request_error"
                : "server_error");
        Response.ResponseBuilder b = Response.fromResponse(body);
        for (Map.Entry<String, List<Object>> h : r.getHeaders().entrySet()) {
            if (!h.getKey().equalsIgnoreCase(HttpHeaders.CONTENT_TYPE)
                    && !h.getKey().equalsIgnoreCase(HttpHeaders.CONTENT_LENGTH)) {
                h.getValue().forEach(v -> b.header(h.getKey(), v));
            }
        }
        return b.build();
    }

    /** Ours rather than quarkus-rest-jackson's built-in mapper of this type, which has another body. */
    @ServerExceptionMapper
    public Response mismatchedJson(MismatchedInputException e) {
        // the field's path in the body, "sampling.top_k" for a nested one (an array index has no field name)
        String field = e.getPath().stream().map(JsonMappingException.Reference::getFieldName)
                .filter(Objects::nonNull).reduce((a, b) -> a + "." + b).orElse(null);
        Response r = json(e);
        if (field == null) {
            return r;
        }
        Class<?> type = e.getTargetType();
        boolean integral = type == Integer.class || type == Long.class || type == int.class || type == long.class;
        String message = integral && e instanceof InvalidFormatException bad && bad.getValue() != null
                ? "must be an integer, got " + (bad.getValue() instanceof String t ? "the string \"" + t + "\""
                : bad.getValue())
                : e.getOriginalMessage();
        return HttpErrors.error(400, field + ": " + message, field, "invalid_request_error");
    }

    @ServerExceptionMapper
    public Response json(JsonProcessingException e) {
        String detail = e.getOriginalMessage();
        var at = e.getLocation();
        return HttpErrors.error(400, "the body is not valid JSON for this endpoint: " + detail
                + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"), null,
                "invalid_request_error");
    }
}
