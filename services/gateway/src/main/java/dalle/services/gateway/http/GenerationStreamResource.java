package dalle.services.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dalle.services.gateway.GatewayRuntime;
import dalle.services.gateway.auth.HttpAuth;
import dalle.services.gateway.auth.Tenants;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.GenerationEvent;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;
import java.util.Locale;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * {@code POST /v1/images/generations/stream}: the generations body, answered as server-sent events while the
 * stages work — the HTTP face of gRPC GenerateStream, on the same path through the stages (the web page uses it).
 * Events: {@code progress} (a {@link HttpApi.Progress}: stage, status, candidates done of total; at most every
 * 100 ms per stage, and at each stage's end), then one {@code result} (the generations response) or one
 * {@code error} (OpenAI's error body with its HTTP status as {@code status}). A request whose fields are wrong is
 * refused before the stream starts, as a plain 400. A POST, not an EventSource GET: the body carries the
 * request and the Authorization header can be sent (a browser reads the stream with fetch).
 */
@Path("/v1/images/generations/stream")
public class GenerationStreamResource {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final GatewayRuntime gateway;
    private final ImageResponses responses;

    @Inject
    public GenerationStreamResource(GatewayRuntime gateway, ImageResponses responses) {
        this.gateway = gateway;
        this.responses = responses;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.SERVER_SENT_EVENTS)
    @Operation(summary = "Generate images, with progress, as server-sent events")
    public void stream(HttpApi.GenerationBody body, @Context SseEventSink sink, @Context Sse sse,
                       @Context HttpServerRequest http, @Context UriInfo uri,
                       @Context ContainerRequestContext context) {
        // checked before the stream starts: a bad field is a plain 400 in OpenAI's body
        GenerateRequest request = ImagesResource.request(body, gateway.core().model());
        try (sink) {
            try {
                // the caller's tenant goes with the generation, as for POST /v1/images/generations
                GenerateResponse r = Tenants.call(HttpAuth.caller(context), () -> gateway.generate(request,
                        e -> send(sink, sse, "progress", progress(e)),
                        cancel -> http.response().closeHandler(closed -> cancel.run())));
                send(sink, sse, "result", responses.of(r, body.responseFormat(), uri));
            } catch (RuntimeException e) {
                Response error = new HttpErrors().toResponse(e);
                send(sink, sse, "error", new StreamError(error.getStatus(), error.getEntity()
                        instanceof HttpApi.ErrorBody b ? b.error() : new HttpApi.Error(String.valueOf(e.getMessage()),
                        "server_error", null, null)));
            }
        }
    }

    /** The {@code error} event: OpenAI's error and the HTTP status the same failure has elsewhere. */
    public record StreamError(int status, HttpApi.Error error) {
    }

    static HttpApi.Progress progress(GenerationEvent e) {
        return new HttpApi.Progress(e.getRequestId(), e.getStage().name().substring("STAGE_".length())
                .toLowerCase(Locale.ROOT), e.getStatus().name().substring("STAGE_STATUS_".length())
                .toLowerCase(Locale.ROOT), e.getCandidatesDone(), e.getCandidatesTotal());
    }

    private static void send(SseEventSink sink, Sse sse, String name, Object data) {
        if (sink.isClosed()) {
            return;
        }
        String json;
        try {
            json = JSON.writeValueAsString(data);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        try {
            // one event at a time, in order, each written before the next (and before the sink closes)
            sink.send(sse.newEventBuilder().name(name).data(json).build()).toCompletableFuture().join();
        } catch (java.util.concurrent.CompletionException gone) {
            // the client went away; its generation is being cancelled (closeHandler)
        }
    }
}
