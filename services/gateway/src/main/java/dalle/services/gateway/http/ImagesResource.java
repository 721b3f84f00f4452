package dalle.services.gateway.http;

import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Requests;
import dalle.services.gateway.GatewayRuntime;
import dalle.services.gateway.auth.HttpAuth;
import dalle.services.gateway.auth.Tenants;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.ModelInfo;
import dalle.v1.RankedImage;
import io.vertx.core.http.HttpServerRequest;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * {@code POST /v1/images/generations}: the OpenAI Images API on the gateway. Runs a synchronous generation
 * through the stage services (the same path as gRPC Generate) and returns the n best images as base64 PNG.
 */
@Path("/v1/images/generations")
public class ImagesResource {

    private final GatewayRuntime gateway;

    @Inject
    public ImagesResource(GatewayRuntime gateway) {
        this.gateway = gateway;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Generate images for a prompt (OpenAI Images API)")
    public HttpApi.ImagesResponse generate(HttpApi.GenerationBody body, @Context HttpServerRequest http,
            @Context ContainerRequestContext context) {
        // a client that disconnects cancels its generation (and so the stages' work for it)
        GenerateResponse r = Tenants.call(HttpAuth.caller(context), () -> gateway.generate(
                request(body, gateway.core().model()), cancel -> http.response().closeHandler(closed -> cancel.run())));
        return new HttpApi.ImagesResponse(System.currentTimeMillis() / 1000, images(r.getImagesList()), r.getSeed(),
                r.getRequestId(), r.getModel().getBundleVersion());
    }

    /**
     * The gRPC request of an HTTP body.
     *
     * @throws FieldException naming prompt, n, size, response_format, candidates or request_id
     */
    static GenerateRequest request(HttpApi.GenerationBody body, ModelInfo model) {
        if (body == null) {
            throw new FieldException("prompt", "missing: the body must be a JSON object with a prompt");
        }
        if (body.responseFormat() != null && !body.responseFormat().equals("b64_json")) {
            throw new FieldException("response_format", "'" + body.responseFormat() + "' is not supported; this "
                    + "server returns images inline only: use \"b64_json\"");
        }
        if (body.size() != null) {
            String want = model.getImageSize() + "x" + model.getImageSize();
            if (!body.size().equals(want)) {
                throw new FieldException("size", "'" + body.size() + "' is not this model's size; use \"" + want + "\"");
            }
        }
        int n = body.n() == null ? 1 : body.n();
        if (n < 1) {
            throw new FieldException("n", n + " must be at least 1");
        }
        int candidates = body.candidates() == null ? Math.max(16, n) : body.candidates();
        if (n > candidates) {
            throw new FieldException("n", n + " is more than candidates " + candidates);
        }
        Requests.candidates("candidates", candidates);
        GenerateRequest.Builder b = GenerateRequest.newBuilder()
                .setCaption(Requests.caption("prompt", body.prompt()))
                .setCandidates(candidates).setTopK(n);
        if (body.seed() != null) {
            b.setSeed(body.seed());
        }
        if (body.requestId() != null) {
            b.setRequestId(body.requestId());
        }
        return b.build();
    }

    static List<HttpApi.ImageData> images(List<RankedImage> ranked) {
        List<HttpApi.ImageData> out = new ArrayList<>(ranked.size());
        for (RankedImage i : ranked) {
            out.add(new HttpApi.ImageData(Base64.getEncoder().encodeToString(i.getImage().getPng().toByteArray()),
                    i.getRank(), i.getCandidateIndex(), i.getScore()));
        }
        return out;
    }
}
