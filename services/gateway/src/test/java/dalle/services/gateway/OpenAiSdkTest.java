package dalle.services.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.models.images.Image;
import com.openai.models.images.ImageGenerateParams;
import com.openai.models.images.ImageModel;
import com.openai.models.images.ImagesResponse;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The gateway as OpenAI's clients use it: the official Java SDK ({@code com.openai:openai-java}) with its base URL
 * pointed at the gateway, against the stand-in stages ({@link FakeStages}: candidate i is grey level i·20 and
 * scores i·20, so the best are the highest indices).
 */
@QuarkusTest
@WithTestResource(GatewayFakes.class)
class OpenAiSdkTest {

    private static OpenAIClient openai;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void client() throws Exception {
        GatewayTest.awaitReadiness(200);
        openai = OpenAIOkHttpClient.builder().baseUrl("http://localhost:18470/v1").apiKey(GatewayFakes.ACME_KEY)
                .maxRetries(0).timeout(Duration.ofSeconds(30)).build();
    }

    @AfterAll
    static void close() {
        openai.close();
    }

    private static BufferedImage png(byte[] bytes) throws Exception {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
        assertTrue(img != null, "a PNG");
        return img;
    }

    @Test
    void b64JsonImagesComeBackBestFirstThroughTheSdk() throws Exception {
        ImagesResponse r = openai.images().generate(ImageGenerateParams.builder().prompt("a red circle")
                .model(ImageModel.DALL_E_2).n(2).responseFormat(ImageGenerateParams.ResponseFormat.B64_JSON)
                .putAdditionalBodyProperty("candidates", com.openai.core.JsonValue.from(4)).build());
        List<Image> data = r.data().orElseThrow();
        assertEquals(2, data.size());
        BufferedImage best = png(Base64.getDecoder().decode(data.get(0).b64Json().orElseThrow()));
        assertEquals(8, best.getWidth(), "the model's own size by default");
        assertEquals(3 * 20, best.getRGB(0, 0) & 0xff, "the best of 4 candidates is candidate 3");
        assertEquals("3", data.get(0)._additionalProperties().get("candidate_index").toString());
        assertTrue(data.get(0).url().isEmpty());
        assertTrue(r.created() > 1_600_000_000L);
    }

    @Test
    void urlImagesAreServedByTheGatewayAtAnOpenAiSizeUntilTheyExpire() throws Exception {
        ImagesResponse r = openai.images().generate(ImageGenerateParams.builder().prompt("a red circle").n(2)
                .size(ImageGenerateParams.Size._256X256).responseFormat(ImageGenerateParams.ResponseFormat.URL)
                .putAdditionalBodyProperty("candidates", com.openai.core.JsonValue.from(4)).build());
        List<Image> data = r.data().orElseThrow();
        assertEquals(2, data.size());
        for (int k = 0; k < 2; k++) {
            String url = data.get(k).url().orElseThrow();
            assertTrue(url.matches("http://localhost:18470/v1/images/files/[A-Za-z0-9_-]{43}"), url);
            assertTrue(data.get(k).b64Json().isEmpty());
            // fetched as a browser or a download would: no API key, the unguessable URL is the capability
            HttpResponse<byte[]> file = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, file.statusCode());
            assertEquals("image/png", file.headers().firstValue("content-type").orElseThrow());
            long maxAge = Long.parseLong(file.headers().firstValue("cache-control").orElseThrow()
                    .replaceAll(".*max-age=", ""));
            assertTrue(maxAge > 3500 && maxAge <= 3600, "expires in the configured hour: " + maxAge);
            BufferedImage img = png(file.body());
            assertEquals(256, img.getWidth());
            assertEquals((3 - k) * 20, img.getRGB(128, 128) & 0xff, "rank " + (k + 1) + " of 4 candidates");
        }
        HttpResponse<String> gone = HTTP.send(HttpRequest.newBuilder(URI.create(
                "http://localhost:18470/v1/images/files/not-an-id")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, gone.statusCode());
        assertTrue(gone.body().contains("\"type\":\"invalid_request_error\""), gone.body());
    }

    @Test
    void aSizeTheGatewayCannotServeIsABadRequestListingTheValidSizes() {
        BadRequestException e = assertThrows(BadRequestException.class, () -> openai.images().generate(
                ImageGenerateParams.builder().prompt("a red circle").size(ImageGenerateParams.Size._1792X1024)
                        .build()));
        assertEquals(400, e.statusCode());
        assertEquals("size", e.param().orElseThrow());
        assertEquals("invalid_request_error", e.type().orElseThrow());
        assertTrue(e.getMessage().contains("8x8, 256x256, 512x512, 1024x1024, auto"), e.getMessage());
    }
}
