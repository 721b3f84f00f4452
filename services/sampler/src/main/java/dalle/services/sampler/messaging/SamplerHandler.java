package dalle.services.sampler.messaging;

import dalle.core.sampling.ImageSampler.CandidateSpec;
import dalle.core.sampling.SamplingParams;
import dalle.services.common.TopicSpec;
import dalle.services.common.Topics;
import dalle.services.common.kafka.Emitter;
import dalle.services.common.kafka.StageEvents;
import dalle.services.common.kafka.StageHandler;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Grids;
import dalle.services.common.stage.Requests;
import dalle.services.common.stage.StageException;
import dalle.services.sampler.SamplerBatcher;
import dalle.services.sampler.SamplerModel;
import dalle.v1.GenerationContext;
import dalle.v1.ImageCodes;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import dalle.v1.TokenizedRequest;
import io.grpc.Deadline;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * tokenized-requests → image-codes: every candidate of every request of a poll joins the shared
 * {@link SamplerBatcher} (with gRPC calls' candidates), one ImageCodes record per candidate as it finishes;
 * RUNNING events at most about once a second per request, SUCCEEDED at the end.
 */
public final class SamplerHandler implements StageHandler<TokenizedRequest, SamplerHandler.Checked> {

    /** A checked request: its candidates' specs and deadline. */
    public record Checked(TokenizedRequest request, List<CandidateSpec> specs, Deadline deadline) {
    }

    private final SamplerModel model;
    private final SamplerBatcher batcher;

    public SamplerHandler(SamplerModel model, SamplerBatcher batcher) {
        this.model = model;
        this.batcher = batcher;
    }

    @Override
    public Stage stage() {
        return Stage.STAGE_SAMPLER;
    }

    @Override
    public TopicSpec<TokenizedRequest> input() {
        return Topics.TOKENIZED_REQUESTS;
    }

    @Override
    public Checked prepare(TokenizedRequest r, long timestampMs) {
        Requests.requestId("request_id", r.getRequestId());
        GenerationContext ctx = r.getContext();
        int[] text = Requests.textTokens("context.text_tokens", ctx.getTextTokensList(), model.info());
        int candidates = ctx.getCandidates();
        if (candidates < 1 || candidates > dalle.core.pipeline.GenerationRequest.MAX_CANDIDATES) {
            throw new FieldException("context.candidates", candidates + " is outside 1..512");
        }
        SamplingParams params = Requests.params("params", r.hasParams() ? r.getParams() : null,
                model.info());
        Deadline deadline = StageEvents.check(ctx, model.info().getBundleVersion(), stage());
        List<CandidateSpec> specs = new ArrayList<>(candidates);
        for (int i = 0; i < candidates; i++) {
            specs.add(new CandidateSpec(text, ctx.getSeed(), i, params));
        }
        return new Checked(r, specs, deadline);
    }

    @Override
    public String requestId(Checked c) {
        return c.request().getRequestId();
    }

    @Override
    public void process(List<Checked> records, Emitter out) throws InterruptedException {
        CountDownLatch finished = new CountDownLatch(records.size());
        for (Checked c : records) {
            String id = c.request().getRequestId();
            GenerationContext ctx = c.request().getContext();
            int total = c.specs().size();
            AtomicInteger done = new AtomicInteger();
            AtomicLong lastEvent = new AtomicLong(System.nanoTime());
            SamplerBatcher.Listener listener = new SamplerBatcher.Listener() {
                @Override
                public void sampled(int candidateIndex, int[] codes) {
                    out.send(Topics.IMAGE_CODES, id, ImageCodes.newBuilder().setRequestId(id)
                            .setCandidateIndex(candidateIndex).setContext(ctx)
                            .setGrid(Grids.grid(codes, model.info())).build());
                    int n = done.incrementAndGet();
                    if (n == total) {
                        out.event(StageEvents.event(id, stage(), StageStatus.STAGE_STATUS_SUCCEEDED, n, total, "sampled"));
                        finished.countDown();
                    } else if (System.nanoTime() - lastEvent.get() > 1_000_000_000L) {
                        lastEvent.set(System.nanoTime());
                        out.event(StageEvents.event(id, stage(), StageStatus.STAGE_STATUS_RUNNING, n, total, "sampling"));
                    }
                }

                @Override
                public void failed(StageException error) {
                    out.fail(id, error);
                    finished.countDown();
                }
            };
            try {
                batcher.submitWaiting(c.specs(), c.deadline(), listener);
            } catch (StageException e) {
                listener.failed(e);
            }
        }
        // bounded by the batcher's life: a batcher that died fails what it still owed, instead of a wait forever
        while (!finished.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
            if (!batcher.alive()) {
                for (Checked c : records) {
                    out.fail(c.request().getRequestId(), new StageException(dalle.v1.ErrorCode.ERROR_CODE_UNAVAILABLE,
                            "the sampler's batcher stopped: " + batcher.failure()));
                }
                return;
            }
        }
    }
}
