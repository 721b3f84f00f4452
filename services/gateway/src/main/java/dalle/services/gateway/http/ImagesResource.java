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
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * {@code POST /v1/images/generations}: the OpenAI Images API on the gateway. Runs a synchronous generation
 * through the stage services (the same path as gRPC Generate) and returns the n best images as base64 PNG or, with
 * {@code response_format=url}, as URLs that expire ({@link ImageFiles}).
 */
@Path("/v1/images/generations")
public class ImagesResource {

    /** The square sizes OpenAI's clients ask for (DALL·E 2's), served resized from the model's own. */
    static final List<Integer> OPENAI_SIZES = List.of(256, 512, 1024);

    private final GatewayRuntime gateway;
    private final ImageResponses responses;

    @Inject
    public ImagesResource(GatewayRuntime gateway, ImageResponses responses) {
        this.gateway = gateway;
        this.responses = responses;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "Generate images for a prompt (OpenAI Images API)")
    public HttpApi.ImagesResponse generate(HttpApi.GenerationBody body, @Context HttpServerRequest http,
            @Context ContainerRequestContext context, @Context UriInfo uri) {
        // a client that disconnects cancels its generation (and so the stages' work for it)
        GenerateResponse r = Tenants.call(HttpAuth.caller(context), () -> gateway.generate(
                request(body, gateway.core().model()), cancel -> http.response().closeHandler(closed -> cancel.run())));
        return responses.of(r, body.responseFormat(), uri);
    }

    /** "WxH" of each size this gateway serves: the model's own first, then OpenAI's. */
    static List<String> sizes(ModelInfo model) {
        List<String> out = new ArrayList<>();
        out.add(model.getImageSize() + "x" + model.getImageSize());
        for (int s : OPENAI_SIZES) {
            if (s != model.getImageSize()) {
                out.add(s + "x" + s);
            }
        }
        return out;
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
        if (body.responseFormat() != null && !body.responseFormat().equals("b64_json")
                && !body.responseFormat().equals("url")) {
            throw new FieldException("response_format", "'" + body.responseFormat() + "' is not one of the valid "
                    + "formats: \"b64_json\", \"url\"");
        }
        int side = 0;
        if (body.size() != null && !body.size().equals("auto")) {
            List<String> valid = sizes(model);
            if (!valid.contains(body.size())) {
                throw new FieldException("size", "'" + body.size() + "' is not one of the valid sizes: "
                        + String.join(", ", valid) + ", auto (the model draws " + valid.get(0) + ", as auto gives; "
                        + "the others are resized from it)");
            }
            side = Integer.parseInt(body.size().substring(0, body.size().indexOf('x')));
        }
        int n = body.n() == null ? 1 : body.n();
        if (n < 1) {
            throw new FieldException("n", n + " must be at least 1");
        }
        Requests.imageBudget("n", n, side != 0 ? side : model.getImageSize());
        if (body.candidates() == null) {
            // candidates follow n here, so a too large n is the caller's field to name, not candidates
            Requests.candidates("n", n);
        }
        int candidates = body.candidates() == null ? Math.max(16, n) : body.candidates();
        if (n > candidates) {
            throw new FieldException("n", n + " is more than candidates " + candidates);
        }
        Requests.candidates("candidates", candidates);
        GenerateRequest.Builder b = GenerateRequest.newBuilder()
                .setCaption(Requests.caption("prompt", body.prompt()))
                .setCandidates(candidates).setTopK(n);
        if (side != 0 && side != model.getImageSize()) {
            b.setSize(side);
        }
        if (body.seed() != null) {
            b.setSeed(body.seed());
        }
        if (body.requestId() != null) {
            b.setRequestId(body.requestId());
        }
        if (body.sampling() != null) {
            HttpApi.Sampling s = body.sampling();
            dalle.v1.SamplingParams.Builder p = dalle.v1.SamplingParams.newBuilder();
            if (s.temperature() != null) {
                p.setTemperature(s.temperature());
            }
            if (s.topK() != null) {
                p.setTopK(s.topK());
            }
            if (s.topP() != null) {
                p.setTopP(s.topP());
            }
            if (s.guidanceScale() != null) {
                p.setGuidanceScale(s.guidanceScale());
            }
            Requests.params("sampling", p.build(), model); // errors name sampling.<field>
            b.setParams(p);
        }
        return b.build();
    }

    static List<HttpApi.ImageData> images(List<RankedImage> ranked) {
        List<HttpApi.ImageData> out = new ArrayList<>(ranked.size());
        for (RankedImage i : ranked) {
            String png = i.getImage().getPng().isEmpty() ? null                 // listed jobs carry no bytes
                    : Base64.getEncoder().encodeToString(i.getImage().getPng().toByteArray());
            out.add(new HttpApi.ImageData(png, null, i.getRank(), i.getCandidateIndex(), i.getScore()));
        }
        return out;
    }
}
