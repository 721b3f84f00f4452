package dalle.services.gateway.fanin;

import com.google.protobuf.ByteString;
import dalle.services.common.Topics;
import dalle.v1.CandidateScore;
import dalle.v1.GenerationContext;
import dalle.v1.Image;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Test records of one request: its context and its candidates' scores. */
record Requests(String id, int candidates, int topK, long submittedAtMs) {

    /** A request submitted when the test class was loaded (so it is not older than any maximum age). */
    static final long SUBMITTED = System.currentTimeMillis();

    Requests(String id, int candidates, int topK) {
        this(id, candidates, topK, SUBMITTED);
    }

    GenerationContext context() {
        return GenerationContext.newBuilder().setCaption("caption of " + id).setCandidates(candidates)
                .setTopK(topK).setSeed(7).setSubmittedAtMs(submittedAtMs).setBundleVersion("tiny-test").build();
    }

    /** Candidate {@code index} with {@code score}; its "PNG" bytes name the candidate so tests can check them. */
    CandidateScore score(int index, float score) {
        return CandidateScore.newBuilder().setRequestId(id).setCandidateIndex(index).setContext(context())
                .setScore(score).setImage(Image.newBuilder().setWidth(1).setHeight(1)
                        .setPng(ByteString.copyFromUtf8(id + "#" + index)))
                .build();
    }

    ProducerRecord<byte[], byte[]> record(int index, float score) {
        return new ProducerRecord<>(Topics.CANDIDATE_SCORES.name(), id.getBytes(StandardCharsets.UTF_8),
                score(index, score).toByteArray());
    }
}
