package dalle.services.gateway.http;

import dalle.services.gateway.config.GatewayConfig;
import dalle.v1.GenerateResponse;
import dalle.v1.RankedImage;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.core.UriInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The OpenAI-compatible body of a generation: its images inline ({@code b64_json}) or, for
 * {@code response_format=url}, kept in {@link ImageFiles} and given as absolute URLs that expire.
 */
@Singleton
public class ImageResponses {

    private final ImageFiles files;
    private final Optional<String> publicUrl;

    @Inject
    public ImageResponses(ImageFiles files, GatewayConfig config) {
        this.files = files;
        this.publicUrl = config.gateway().publicUrl();
    }

    /**
     * @param format "url", or anything else (already checked) for b64_json
     * @param uri the request's, whose base URL the image URLs use unless {@code dalle.gateway.public-url} is set
     */
    public HttpApi.ImagesResponse of(GenerateResponse r, String format, UriInfo uri) {
        List<HttpApi.ImageData> data = "url".equals(format)
                ? urls(r.getImagesList(), publicUrl.orElse(uri.getBaseUri().toString()))
                : ImagesResource.images(r.getImagesList());
        return new HttpApi.ImagesResponse(System.currentTimeMillis() / 1000, data, r.getSeed(),
                r.getRequestId(), r.getModel().getBundleVersion());
    }

    /** The images kept in {@link ImageFiles}, each as its absolute URL under {@code base}. */
    private List<HttpApi.ImageData> urls(List<RankedImage> ranked, String base) {
        List<String> ids = files.put(ranked.stream().map(i -> i.getImage().getPng().toByteArray()).toList());
        String root = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        List<HttpApi.ImageData> out = new ArrayList<>(ranked.size());
        for (int k = 0; k < ranked.size(); k++) {
            RankedImage i = ranked.get(k);
            out.add(new HttpApi.ImageData(null, root + ImageFiles.PATH + ids.get(k), i.getRank(),
                    i.getCandidateIndex(), i.getScore()));
        }
        return out;
    }
}
