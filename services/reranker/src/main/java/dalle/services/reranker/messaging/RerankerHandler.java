package dalle.services.reranker.messaging;

import dalle.core.image.RgbImage;
import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.kafka.Emitter;
import dalle.services.common.kafka.StageEvents;
import dalle.services.common.kafka.StageHandler;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Pngs;
import dalle.services.common.stage.Requests;
import dalle.services.reranker.RerankerModel;
import dalle.v1.CandidateImage;
import dalle.v1.CandidateScore;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * candidate-images → candidate-scores: a poll's images grouped by request (one caption each) and scored by the
 * reranker against the context's padded text tokens; one RUNNING event per request and poll.
 */
public final class RerankerHandler implements StageHandler<CandidateImage, RerankerHandler.Checked> {

    /** A checked record, its image read and its text tokens. */
    public record Checked(CandidateImage record, RgbImage image, int[] text) {
    }

    private final RerankerModel model;

    public RerankerHandler(RerankerModel model) {
        this.model = model;
    }

    @Override
    public Stage stage() {
        return Stage.STAGE_RERANKER;
    }

    @Override
    public TopicSpec<CandidateImage> input() {
        return Topics.CANDIDATE_IMAGES;
    }

    @Override
    public Checked prepare(CandidateImage r, long timestampMs) {
        Requests.requestId("request_id", r.getRequestId());
        int candidates = r.getContext().getCandidates();
        if (r.getCandidateIndex() < 0 || r.getCandidateIndex() >= candidates) {
            throw new FieldException("candidate_index", r.getCandidateIndex() + " is outside [0, context.candidates "
                    + candidates + ")");
        }
        int[] text = Requests.textTokens("context.text_tokens", r.getContext().getTextTokensList(), model.info());
        RgbImage image = Pngs.read("image", r.getImage(), model.imageSize());
        StageEvents.check(r.getContext(), model.info().getBundleVersion(), stage());
        return new Checked(r, image, text);
    }

    @Override
    public String requestId(Checked c) {
        return c.record().getRequestId();
    }

    @Override
    public void process(List<Checked> records, Emitter out) {
        Map<String, List<Checked>> byRequest = new LinkedHashMap<>();
        for (Checked c : records) {
            byRequest.computeIfAbsent(c.record().getRequestId(), k -> new ArrayList<>()).add(c);
        }
        for (Map.Entry<String, List<Checked>> e : byRequest.entrySet()) {
            List<Checked> group = e.getValue();
            List<RgbImage> images = group.stream().map(Checked::image).toList();
            float[] scores = model.score(group.get(0).text(), images);
            for (int i = 0; i < group.size(); i++) {
                CandidateImage r = group.get(i).record();
                out.send(Topics.CANDIDATE_SCORES, r.getRequestId(), CandidateScore.newBuilder()
                        .setRequestId(r.getRequestId()).setCandidateIndex(r.getCandidateIndex())
                        .setContext(r.getContext()).setScore(scores[i]).setImage(r.getImage()).build());
            }
            out.event(StageEvents.event(e.getKey(), stage(), StageStatus.STAGE_STATUS_RUNNING, group.size(),
                    group.get(0).record().getContext().getCandidates(),
                    "scored " + group.size() + " candidates in this batch"));
        }
    }
}
