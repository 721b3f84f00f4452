package dalle.services.decoder.messaging;

import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.kafka.Emitter;
import dalle.services.common.kafka.StageEvents;
import dalle.services.common.kafka.StageHandler;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Grids;
import dalle.services.common.stage.Requests;
import dalle.services.decoder.DecoderModel;
import dalle.v1.CandidateImage;
import dalle.v1.Image;
import dalle.v1.ImageCodes;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * image-codes → candidate-images: the grids of a poll decoded together by the dVAE decoder; one RUNNING event per
 * request and poll (candidates_done counts the poll's candidates of that request; the totals are the fan-in's).
 */
public final class DecoderHandler implements StageHandler<ImageCodes, DecoderHandler.Checked> {

    /** A checked record and its codes. */
    public record Checked(ImageCodes record, int[] codes) {
    }

    private final DecoderModel model;

    public DecoderHandler(DecoderModel model) {
        this.model = model;
    }

    @Override
    public Stage stage() {
        return Stage.STAGE_DECODER;
    }

    @Override
    public TopicSpec<ImageCodes> input() {
        return Topics.IMAGE_CODES;
    }

    @Override
    public Checked prepare(ImageCodes r, long timestampMs) {
        Requests.requestId("request_id", r.getRequestId());
        int candidates = r.getContext().getCandidates();
        if (r.getCandidateIndex() < 0 || r.getCandidateIndex() >= candidates) {
            throw new FieldException("candidate_index", r.getCandidateIndex() + " is outside [0, context.candidates "
                    + candidates + ")");
        }
        int[] codes = Grids.codes("grid", r.getGrid(), model.info());
        StageEvents.check(r.getContext(), model.info().getBundleVersion(), stage());
        return new Checked(r, codes);
    }

    @Override
    public String requestId(Checked c) {
        return c.record().getRequestId();
    }

    @Override
    public void process(List<Checked> records, Emitter out) {
        List<int[]> grids = new ArrayList<>(records.size());
        for (Checked c : records) {
            grids.add(c.codes());
        }
        List<Image> images = model.decode(grids);
        Map<String, Integer> perRequest = new LinkedHashMap<>();
        for (int i = 0; i < records.size(); i++) {
            ImageCodes r = records.get(i).record();
            out.send(Topics.CANDIDATE_IMAGES, r.getRequestId(), CandidateImage.newBuilder()
                    .setRequestId(r.getRequestId()).setCandidateIndex(r.getCandidateIndex())
                    .setContext(r.getContext()).setImage(images.get(i)).build());
            perRequest.merge(r.getRequestId(), 1, Integer::sum);
        }
        for (Checked c : records) {
            Integer n = perRequest.remove(c.record().getRequestId());
            if (n != null) {
                out.event(StageEvents.event(c.record().getRequestId(), stage(), StageStatus.STAGE_STATUS_RUNNING, n,
                        c.record().getContext().getCandidates(), "decoded " + n + " candidates in this batch"));
            }
        }
    }
}
