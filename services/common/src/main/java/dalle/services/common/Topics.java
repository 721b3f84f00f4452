package dalle.services.common;

import com.google.protobuf.Message;
import dalle.v1.CandidateImage;
import dalle.v1.CandidateScore;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationRequest;
import dalle.v1.GenerationResult;
import dalle.v1.ImageCodes;
import dalle.v1.TokenizedRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The one topic registry of the generation pipeline: the topics of {@code dalle/v1/events.proto}'s table, each
 * with its payload type, partitions and retention, plus one dead-letter topic per topic. Nobody else spells a
 * topic name.
 *
 * <pre>
 * generation-requests -> tokenizer -> tokenized-requests -> sampler -> image-codes
 *   -> decoder -> candidate-images -> reranker -> candidate-scores -> (fan-in) -> generation-results
 * every stage -> generation-events        any stage, bad record -> &lt;topic&gt;-dlq
 * </pre>
 *
 * <p>Partitions: 3 for per-request topics, 6 for per-candidate ones (they carry up to 512 records per request
 * and feed the GPU stages, whose consumers scale out), 1 for dead letters. Retention: 7 days, 14 for
 * generation-results (clients may collect late), 30 for dead letters (operators need time). Sizes: one record
 * holds at most 1 MiB by default, 4 MiB on the per-candidate image topics and 32 MiB on generation-results
 * (top_k PNGs; a 256-pixel PNG is at most ~200 KB).
 */
public final class Topics {

    /** The suffix of a dead-letter topic: {@code image-codes} dead-letters to {@code image-codes-dlq}. */
    public static final String DEAD_LETTER_SUFFIX = "-dlq";

    static final int PER_REQUEST_PARTITIONS = 3;
    static final int PER_CANDIDATE_PARTITIONS = 6;
    static final int DEAD_LETTER_PARTITIONS = 1;
    static final Duration RETENTION = Duration.ofDays(7);
    static final Duration RESULT_RETENTION = Duration.ofDays(14);
    static final Duration DEAD_LETTER_RETENTION = Duration.ofDays(30);
    static final int DEFAULT_MAX_BYTES = 1 << 20;
    static final int IMAGE_MAX_BYTES = 4 << 20;
    static final int RESULT_MAX_BYTES = 32 << 20;
    /** Room for the dlq-* headers on top of a source record that was as large as its topic allows. */
    static final int DEAD_LETTER_HEADROOM_BYTES = 64 << 10;

    /** Batch clients and the gateway -> tokenizer; one record per request. */
    public static final TopicSpec<GenerationRequest> GENERATION_REQUESTS = proto("generation-requests",
            GenerationRequest.class, PER_REQUEST_PARTITIONS, RETENTION, DEFAULT_MAX_BYTES);
    /** Tokenizer -> sampler; one record per request. */
    public static final TopicSpec<TokenizedRequest> TOKENIZED_REQUESTS = proto("tokenized-requests",
            TokenizedRequest.class, PER_REQUEST_PARTITIONS, RETENTION, DEFAULT_MAX_BYTES);
    /** Sampler -> decoder; one record per candidate. */
    public static final TopicSpec<ImageCodes> IMAGE_CODES = proto("image-codes",
            ImageCodes.class, PER_CANDIDATE_PARTITIONS, RETENTION, DEFAULT_MAX_BYTES);
    /** Decoder -> reranker; one record per candidate. */
    public static final TopicSpec<CandidateImage> CANDIDATE_IMAGES = proto("candidate-images",
            CandidateImage.class, PER_CANDIDATE_PARTITIONS, RETENTION, IMAGE_MAX_BYTES);
    /** Reranker -> fan-in; one record per candidate. */
    public static final TopicSpec<CandidateScore> CANDIDATE_SCORES = proto("candidate-scores",
            CandidateScore.class, PER_CANDIDATE_PARTITIONS, RETENTION, IMAGE_MAX_BYTES);
    /** Fan-in -> batch clients and the gateway; exactly one record per request. */
    public static final TopicSpec<GenerationResult> GENERATION_RESULTS = proto("generation-results",
            GenerationResult.class, PER_REQUEST_PARTITIONS, RESULT_RETENTION, RESULT_MAX_BYTES);
    /** Every stage -> the status view and the gateway; several records per request. */
    public static final TopicSpec<GenerationEvent> GENERATION_EVENTS = proto("generation-events",
            GenerationEvent.class, PER_REQUEST_PARTITIONS, RETENTION, DEFAULT_MAX_BYTES);

    private static final List<TopicSpec<? extends Message>> PIPELINE = List.of(GENERATION_REQUESTS,
            TOKENIZED_REQUESTS, IMAGE_CODES, CANDIDATE_IMAGES, CANDIDATE_SCORES, GENERATION_RESULTS,
            GENERATION_EVENTS);

    private Topics() {
    }

    /** The seven pipeline topics, in pipeline order (generation-events last). */
    public static List<TopicSpec<? extends Message>> pipeline() {
        return PIPELINE;
    }

    /** Every topic {@link TopicSetup} creates: the pipeline topics, then their dead-letter topics. */
    public static List<TopicSpec<?>> all() {
        List<TopicSpec<?>> all = new ArrayList<>(PIPELINE);
        for (TopicSpec<?> t : PIPELINE) {
            all.add(deadLetter(t));
        }
        return List.copyOf(all);
    }

    /** The registered topic of that name, dead-letter topics included. */
    public static Optional<TopicSpec<?>> byName(String name) {
        return all().stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /**
     * The dead-letter topic of a pipeline topic: {@code <name>-dlq}, raw bytes (the original value, unchanged),
     * {@value #DEAD_LETTER_PARTITIONS} partition, retention 30 days, the source's size limit plus 64 KiB for the
     * dlq-* headers.
     *
     * @throws IllegalArgumentException for a dead-letter topic (dead letters are not dead-lettered again)
     */
    public static TopicSpec<byte[]> deadLetter(TopicSpec<?> source) {
        return new TopicSpec<>(deadLetterTopic(source.name()), byte[].class, Serdes.ByteArray(),
                DEAD_LETTER_PARTITIONS, DEAD_LETTER_RETENTION, source.maxMessageBytes() + DEAD_LETTER_HEADROOM_BYTES);
    }

    /**
     * {@code <topic>-dlq}, the rule of events.proto.
     *
     * @throws IllegalArgumentException when {@code topic} is blank or already a dead-letter topic
     */
    public static String deadLetterTopic(String topic) {
        if (topic == null || topic.isBlank()) {
            throw new IllegalArgumentException("topic is blank: no dead-letter topic for it");
        }
        if (isDeadLetterTopic(topic)) {
            throw new IllegalArgumentException(
                    "topic " + topic + " is a dead-letter topic; its records are not dead-lettered again");
        }
        return topic + DEAD_LETTER_SUFFIX;
    }

    /** Whether {@code topic} ends in {@value #DEAD_LETTER_SUFFIX}. */
    public static boolean isDeadLetterTopic(String topic) {
        return topic.endsWith(DEAD_LETTER_SUFFIX);
    }

    private static <T extends Message> TopicSpec<T> proto(String name, Class<T> type, int partitions,
            Duration retention, int maxBytes) {
        return new TopicSpec<>(name, type, ProtoSerde.of(type), partitions, retention, maxBytes);
    }

    /** "7d", "12h", "90s": the largest whole unit. */
    static String humanDuration(Duration d) {
        if (d.toSeconds() % 86_400 == 0) {
            return d.toDays() + "d";
        }
        if (d.toSeconds() % 3_600 == 0) {
            return d.toHours() + "h";
        }
        if (d.toSeconds() % 60 == 0) {
            return d.toMinutes() + "m";
        }
        return d.toMillis() + "ms";
    }
}
