package dalle.services.tokenizer.messaging;

import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.kafka.Emitter;
import dalle.services.common.kafka.StageEvents;
import dalle.services.common.kafka.StageHandler;
import dalle.services.common.stage.Deadlines;
import dalle.services.common.stage.Requests;
import dalle.services.common.stage.StageException;
import dalle.services.tokenizer.TokenizerModel;
import dalle.v1.GenerationContext;
import dalle.v1.GenerationRequest;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import dalle.v1.TokenizedRequest;
import java.util.List;

/** generation-requests → tokenized-requests: checks the request, resolves its defaults, tokenizes the caption. */
public final class TokenizerHandler implements StageHandler<GenerationRequest, TokenizerHandler.Checked> {

    /** A checked request with its defaults resolved. */
    public record Checked(GenerationRequest request, int candidates, int topK, long seed, long submittedAtMs,
                          int[] text) {
    }

    private final TokenizerModel model;

    public TokenizerHandler(TokenizerModel model) {
        this.model = model;
    }

    @Override
    public Stage stage() {
        return Stage.STAGE_TOKENIZER;
    }

    @Override
    public TopicSpec<GenerationRequest> input() {
        return Topics.GENERATION_REQUESTS;
    }

    @Override
    public Checked prepare(GenerationRequest r, long timestampMs) {
        Requests.requestId("request_id", r.getRequestId());
        Requests.caption("caption", r.getCaption());
        int[] text = model.padded(r.getCaption());
        int candidates = Requests.candidates("candidates", r.hasCandidates(), r.getCandidates());
        int topK = Requests.topK("top_k", r.getTopK(), candidates);
        Requests.imageBudget("top_k", topK, model.info().getImageSize());
        Requests.params("params", r.hasParams() ? r.getParams() : null, model.info());
        if (r.hasDeadlineMs() && Deadlines.fromEpochMs(r.getDeadlineMs()).isExpired()) {
            throw StageException.deadline("before the tokenizer took the request");
        }
        long seed = r.hasSeed() ? r.getSeed() : Requests.seedOf(r.getRequestId());
        long submitted = r.getSubmittedAtMs() != 0 ? r.getSubmittedAtMs() : timestampMs;
        return new Checked(r, candidates, topK, seed, submitted, text);
    }

    @Override
    public String requestId(Checked c) {
        return c.request().getRequestId();
    }

    @Override
    public void process(List<Checked> records, Emitter out) {
        for (Checked c : records) {
            GenerationRequest r = c.request();
            GenerationContext.Builder ctx = GenerationContext.newBuilder().setCaption(r.getCaption())
                    .setCandidates(c.candidates()).setTopK(c.topK()).setSeed(c.seed())
                    .setSubmittedAtMs(c.submittedAtMs()).setBundleVersion(model.info().getBundleVersion());
            for (int id : c.text()) {
                ctx.addTextTokens(id);
            }
            if (r.hasDeadlineMs()) {
                ctx.setDeadlineMs(r.getDeadlineMs());
            }
            TokenizedRequest.Builder t = TokenizedRequest.newBuilder().setRequestId(r.getRequestId()).setContext(ctx);
            if (r.hasParams()) {
                t.setParams(r.getParams());
            }
            out.send(Topics.TOKENIZED_REQUESTS, r.getRequestId(), t.build());
            out.event(StageEvents.event(r.getRequestId(), stage(), StageStatus.STAGE_STATUS_SUCCEEDED, 0,
                    c.candidates(), "tokenized"));
        }
    }
}
