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
     * @param size "WxH": the model's square size (e.g. "64x64", the default) or one of OpenAI's 256x256, 512x512,
     *     1024x1024 (resized from the model's)
     * @param responseFormat "b64_json" (the default) or "url" (served by the gateway until it expires)
     * @param candidates dalle extension: candidates to sample and rerank, default max(16, n)
     * @param seed dalle extension: the seed; default derived from the request id
     * @param requestId dalle extension: the request/job id, 1..64 of [A-Za-z0-9._-]; default a fresh id
     * @param sampling dalle extension: how image tokens are sampled; default the model's defaults
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record GenerationBody(String prompt, Integer n, String size,
                                 @JsonProperty("response_format") String responseFormat, Integer candidates,
                                 Long seed, @JsonProperty("request_id") String requestId, String model,
                                 String user, Sampling sampling) {
    }

    /**
     * Sampling options (SamplingParams in common.proto), each optional.
     *
     * @param temperature softmax temperature, 0.01..10 (default 1)
     * @param topK keep the k most likely image tokens at each step (0 = off); not the number of images
     * @param topP nucleus sampling, (0, 1] (default off)
     * @param guidanceScale classifier-free guidance, 0..20 (0 or 1 = off)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Sampling(Float temperature, @JsonProperty("top_k") Integer topK,
                           @JsonProperty("top_p") Float topP,
                           @JsonProperty("guidance_scale") Float guidanceScale) {
    }

    /**
     * A progress event of {@code POST /v1/images/generations/stream} (GenerationEvent in events.proto).
     *
     * @param stage tokenizer, sampler, decoder or reranker
     * @param status running or succeeded
     */
    public record Progress(@JsonProperty("request_id") String requestId, String stage, String status,
                           @JsonProperty("candidates_done") int done, @JsonProperty("candidates_total") int total) {
    }

    /**
     * One image: base64 PNG, or the URL it can be fetched from until it expires; dalle extensions say which
     * candidate it is and its score.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ImageData(@JsonProperty("b64_json") String b64Json, String url, Integer rank,
                            @JsonProperty("candidate_index") Integer candidateIndex, Float score) {
    }

    /** The OpenAI-compatible response: {@code created} in Unix seconds, the images best first. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ImagesResponse(long created, List<ImageData> data, Long seed,
                                 @JsonProperty("request_id") String requestId,
                                 @JsonProperty("bundle_version") String bundleVersion) {
    }

    /**
     * A job: its state, when it was submitted ({@code created}, Unix seconds; absent for a job known only by its id)
     * and, when done, its images or error.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record JobBody(String id, String state, String stage, @JsonProperty("candidates_done") Integer done,
                          @JsonProperty("candidates_total") Integer total, List<ImageData> data, Error error,
                          Long created) {
    }

    /**
     * A page of the caller's jobs, newest first, without image bytes ({@code data} of a succeeded job: rank,
     * candidate_index and score); {@code next_page_token} (absent on the last page) asks for the next page.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record JobList(String object, List<JobBody> data, @JsonProperty("has_more") boolean hasMore,
                          @JsonProperty("next_page_token") String nextPageToken) {
    }

    /** OpenAI's error body: {@code {"error": {"message", "type", "param", "code"}}}. */
    public record ErrorBody(Error error) {
    }

    /** The error inside {@link ErrorBody}; {@code param} names the offending field. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Error(String message, String type, String param, String code) {
    }
}
