package dalle.services.common.stage;

import dalle.core.pipeline.GenerationRequest;
import dalle.core.sampling.SamplingParams;
import dalle.v1.ModelInfo;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The limits of {@code dalle/v1/common.proto}, checked once for gRPC, Kafka and HTTP alike: each check throws a
 * {@link FieldException} naming the field. Also resolves the documented defaults (0 = default).
 */
public final class Requests {

    /** Candidates when a request says 0. */
    public static final int DEFAULT_CANDIDATES = 16;
    /**
     * The most image bytes (as raw RGB, which a PNG of a real picture does not exceed by much) one response or result
     * may carry: generation-results takes 32 MiB per record, a gRPC response 64 MiB.
     */
    public static final long MAX_RESULT_IMAGE_BYTES = 24L << 20;

    /**
     * A request's images must fit one response: {@code topK} images of {@code side × side} RGB pixels.
     *
     * @throws FieldException naming {@code field} (top_k) when they would carry more than
     *     {@link #MAX_RESULT_IMAGE_BYTES}
     */
    public static void imageBudget(String field, int topK, int side) {
        long bytes = (long) topK * side * side * 3;
        if (bytes > MAX_RESULT_IMAGE_BYTES) {
            throw new FieldException(field, topK + " images of " + side + "x" + side + " pixels carry up to " + bytes
                    + " bytes, more than the " + MAX_RESULT_IMAGE_BYTES + " one request may return; ask for fewer"
                    + " images or a smaller size");
        }
    }

    /** Most grids per Decode call and images per Score call (common.proto's cap). */
    public static final int MAX_BATCH = 64;
    /** Largest top_k when a request says 0: min(4, candidates). */
    public static final int DEFAULT_TOP_K = 4;
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** A request id inside the pipeline: a client's id, behind its tenant and ':' when the gateway scoped it. */
    private static final Pattern SCOPED_REQUEST_ID = Pattern.compile("([a-z0-9][a-z0-9-]{0,31}:)?[A-Za-z0-9._-]{1,64}");

    private Requests() {
    }

    /** Caption: 1..1000 code points, not blank. */
    public static String caption(String field, String caption) {
        if (caption == null || caption.isBlank()) {
            throw new FieldException(field, "must not be empty or blank");
        }
        int points = caption.codePointCount(0, caption.length());
        if (points > GenerationRequest.MAX_CAPTION_CHARS) {
            throw new FieldException(field, "has " + points + " characters, the limit is "
                    + GenerationRequest.MAX_CAPTION_CHARS);
        }
        return caption;
    }

    /**
     * A caption's BPE ids must hold text: the tokenizer's padding token (written {@code <pad>} in a caption) would
     * make the caption padding, which the prior reads as "no text here", so a caption that contains it is refused.
     *
     * @param ids the caption's ids, unpadded
     * @throws FieldException naming {@code field}
     */
    public static int[] textIds(String field, int[] ids, int padId, String padToken) {
        for (int id : ids) {
            if (id == padId) {
                throw new FieldException(field, "contains " + padToken + ", the tokenizer's padding token; a caption"
                        + " must be text");
            }
        }
        if (ids.length == 0) {
            throw new FieldException(field, "has no text the tokenizer reads");
        }
        return ids;
    }

    /**
     * Candidates of a request whose field is {@code optional}: absent = {@value #DEFAULT_CANDIDATES},
     * present = 1..512 (an explicit 0 is an error, not the default).
     */
    public static int candidates(String field, boolean present, int candidates) {
        return present ? candidates(field, candidates) : DEFAULT_CANDIDATES;
    }

    /** Candidates given explicitly: 1..512. */
    public static int candidates(String field, int candidates) {
        if (candidates < 1 || candidates > GenerationRequest.MAX_CANDIDATES) {
            throw new FieldException(field, candidates + " is outside 1.." + GenerationRequest.MAX_CANDIDATES);
        }
        return candidates;
    }

    /** top_k: 0 = min(4, candidates), else 1..candidates. */
    public static int topK(String field, int topK, int candidates) {
        if (topK == 0) {
            return Math.min(DEFAULT_TOP_K, candidates);
        }
        if (topK < 1 || topK > candidates) {
            throw new FieldException(field, topK + " is outside 1..candidates (" + candidates + ")");
        }
        return topK;
    }

    /**
     * A request id as the stages and topics carry it: 1..64 characters of [A-Za-z0-9._-], optionally behind the
     * tenant the gateway scoped it to and ':' ({@code acme:job-1}).
     */
    public static String requestId(String field, String id) {
        if (id == null || !SCOPED_REQUEST_ID.matcher(id).matches()) {
            throw new FieldException(field, "'" + id + "' is not 1..64 characters of [A-Za-z0-9._-] (optionally "
                    + "behind a tenant and ':')");
        }
        return id;
    }

    /**
     * Why a record keyed {@code key} cannot carry request {@code requestId}: every topic is keyed by the request id,
     * so that a request's records share a partition and clients find their results by key. Empty when they agree.
     */
    public static Optional<String> keyMismatch(String key, String requestId) {
        return key.equals(requestId) ? Optional.empty()
                : Optional.of("record key '" + key + "' differs from request_id '" + requestId + "'");
    }

    /** A request id as a gateway client chooses it: 1..64 characters of [A-Za-z0-9._-] (no tenant). */
    public static String clientRequestId(String field, String id) {
        if (id == null || !REQUEST_ID.matcher(id).matches()) {
            throw new FieldException(field, "'" + id + "' is not 1..64 characters of [A-Za-z0-9._-]");
        }
        return id;
    }

    /**
     * The seed of a request that has none: a stable hash of its id (FNV-1a 64 over the UTF-8 bytes), so a
     * replayed record gives the same images.
     */
    public static long seedOf(String requestId) {
        long h = 0xcbf29ce484222325L;
        for (byte b : requestId.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** The proto sampling settings as core's, defaults resolved; absent = the paper's defaults. */
    public static SamplingParams params(String field, dalle.v1.SamplingParams p, ModelInfo model) {
        if (p == null) {
            return SamplingParams.DEFAULT;
        }
        float temperature = p.getTemperature();
        if (temperature == 0f) {
            temperature = 1f;
        } else if (!(temperature >= 0.01f && temperature <= 10f)) {
            throw new FieldException(field + ".temperature", temperature + " is outside 0.01..10 (0 = default 1)");
        }
        int topK = p.getTopK();
        if (topK < 0) {
            throw new FieldException(field + ".top_k", topK + " is negative (0 = off)");
        }
        if (model != null && topK >= model.getImageVocabSize()) {
            topK = 0;
        }
        float topP = p.getTopP();
        if (topP == 0f) {
            topP = 1f;
        } else if (!(topP > 0f && topP <= 1f)) {
            throw new FieldException(field + ".top_p", topP + " is outside (0, 1] (0 = off)");
        }
        float guidance = p.getGuidanceScale();
        if (!(guidance >= 0f && guidance <= 20f)) {
            throw new FieldException(field + ".guidance_scale", guidance + " is outside 0..20 (0 or 1 = off)");
        }
        if (guidance == 0f) {
            guidance = 1f;
        }
        return new SamplingParams(temperature, topK, topP, guidance);
    }

    /** Padded text tokens: exactly text_length ids, each in [0, text_vocab_size). */
    public static int[] textTokens(String field, java.util.List<Integer> tokens, ModelInfo model) {
        if (tokens.size() != model.getTextLength()) {
            throw new FieldException(field, "has " + tokens.size() + " ids, the model reads exactly "
                    + model.getTextLength() + " (TokenizeResponse.padded_ids)");
        }
        int[] out = new int[tokens.size()];
        for (int i = 0; i < out.length; i++) {
            int id = tokens.get(i);
            if (id < 0 || id >= model.getTextVocabSize()) {
                throw new FieldException(field + "[" + i + "]", id + " is outside [0, " + model.getTextVocabSize()
                        + ")");
            }
            out[i] = id;
        }
        return out;
    }
}
