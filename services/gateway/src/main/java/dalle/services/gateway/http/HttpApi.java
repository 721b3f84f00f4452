package dalle.services.gateway.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** The JSON bodies of the HTTP API (OpenAI Images-API field names, snake_case). */
public final class HttpApi {

    private HttpApi() {
    }

    /**
     * {@code POST /v1/images/generations} and {@code POST /v1/jobs}.
     *
     * @param prompt the caption, 1..1000 characters
     * @param n images to return (the reranked best), 1..candidates; default 1
     * @param size "WxH"; must be the model's square size (e.g. "64x64"); default that size
     * @param responseFormat "b64_json" (the default); "url" is not supported
     * @param candidates dalle extension: candidates to sample and rerank, default max(16, n)
     * @param seed dalle extension: the seed; default derived from the request id
     * @param requestId dalle extension: the request/job id, 1..64 of [A-Za-z0-9._-]; default a fresh id
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record GenerationBody(String prompt, Integer n, String size,
                                 @JsonProperty("response_format") String responseFormat, Integer candidates,
                                 Long seed, @JsonProperty("request_id") String requestId, String model,
                                 String user) {
    }

    /** One image: base64 PNG; dalle extensions say which candidate it is and its score. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ImageData(@JsonProperty("b64_json") String b64Json, Integer rank,
                            @JsonProperty("candidate_index") Integer candidateIndex, Float score) {
    }

    /** The OpenAI-compatible response: {@code created} in Unix seconds, the images best first. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ImagesResponse(long created, List<ImageData> data, Long seed,
                                 @JsonProperty("request_id") String requestId,
                                 @JsonProperty("bundle_version") String bundleVersion) {
    }

    /** A job: its state and, when done, its images or error. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record JobBody(String id, String state, String stage, @JsonProperty("candidates_done") Integer done,
                          @JsonProperty("candidates_total") Integer total, List<ImageData> data, Error error) {
    }

    /** OpenAI's error body: {@code {"error": {"message", "type", "param", "code"}}}. */
    public record ErrorBody(Error error) {
    }

    /** The error inside {@link ErrorBody}; {@code param} names the offending field. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Error(String message, String type, String param, String code) {
    }
}
