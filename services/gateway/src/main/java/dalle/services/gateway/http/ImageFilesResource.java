package dalle.services.gateway.http;

import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.time.Instant;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * {@code GET /v1/images/files/{id}}: an image returned as a URL ({@code response_format=url}), as PNG, until it
 * expires (then 404 in OpenAI's error body). The unguessable id is the capability, as with OpenAI's signed image
 * URLs: fetching needs no API key, so an {@code <img src>} or a plain download works.
 */
@Path("/v1/images/files")
public class ImageFilesResource {

    private final ImageFiles files;

    @Inject
    public ImageFilesResource(ImageFiles files) {
        this.files = files;
    }

    @GET
    @Path("/{id}")
    @Produces({"image/png", "application/json"})
    @Operation(summary = "An image returned as a URL, until its expiry")
    public Response get(@PathParam("id") String id) {
        return files.get(id).map(f -> Response.ok(f.png(), "image/png")
                        .header("Cache-Control", "private, max-age="
                                + Math.max(0, Duration.between(Instant.now(), f.expiresAt()).toSeconds()))
                        .header("Expires", java.util.Date.from(f.expiresAt()))
                        .build())
                .orElseGet(() -> HttpErrors.error(404, "no image '" + id + "': image URLs expire (see "
                        + "dalle.gateway.image-url-ttl)", "id", "invalid_request_error"));
    }
}
