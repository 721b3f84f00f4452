package dalle.services.gateway;

import dalle.core.pipeline.Ranking;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Pngs;
import dalle.services.common.stage.Requests;
import dalle.services.gateway.auth.Tenants;
import dalle.v1.CodeGrid;
import dalle.v1.DecodeRequest;
import dalle.v1.DecodeResponse;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.GenerationEvent;
import dalle.v1.Image;
import dalle.v1.ModelInfo;
import dalle.v1.RankedImage;
import dalle.v1.SampleRequest;
import dalle.v1.SampledCandidate;
import dalle.v1.ScoreRequest;
import dalle.v1.ScoreResponse;
import dalle.v1.Stage;
import dalle.v1.StageStatus;
import dalle.v1.Timings;
import dalle.v1.TokenizeRequest;
import dalle.v1.TokenizeResponse;
import io.grpc.Deadline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Synchronous generation through the stage services over gRPC: tokenize, sample (streamed), decode and score in
 * chunks of {@value Requests#MAX_BATCH}, rank ({@link Ranking}), keep top_k. The caller's deadline (or the default timeout)
 * travels on every stage call; a stage's error status reaches the caller unchanged.
 */
public final class GatewayCore {

    private final StageClients clients;
    private final Supplier<ModelInfo> model;
    private final Duration defaultTimeout;

    /**
     * @param model the bundle the stages serve (the gateway asks them: {@link StageModels})
     * @param defaultTimeout deadline of a call that has none
     */
    public GatewayCore(StageClients clients, Supplier<ModelInfo> model, Duration defaultTimeout) {
        this.clients = clients;
        this.model = model;
        this.defaultTimeout = defaultTimeout;
    }

    /**
     * A request with its defaults resolved and its fields checked.
     *
     * @param requestId the pipeline's id: {@code clientId} behind the caller's tenant ({@link Tenants#scope})
     * @param clientId the id the caller chose or was given, the only one it sees
     */
    public record Resolved(String requestId, String clientId, String caption, int candidates, int topK, long seed,
                           dalle.v1.SamplingParams params, int size) {
    }

    /**
     * Checks a request's fields and resolves its defaults (request id, candidates, top_k, seed, size).
     *
     * @throws FieldException naming the first bad field
     */
    public Resolved resolve(GenerateRequest r) {
        ModelInfo info = model.get();
        String id = r.getRequestId().isEmpty() ? UUID.randomUUID().toString()
                : Requests.clientRequestId("request_id", r.getRequestId());
        String caption = Requests.caption("caption", r.getCaption());
        int candidates = Requests.candidates("candidates", r.hasCandidates(), r.getCandidates());
        int topK = Requests.topK("top_k", r.getTopK(), candidates);
        Requests.params("params", r.hasParams() ? r.getParams() : null, info);
        int size = r.getSize();
        if (size != 0 && (size < 16 || size > 1024)) {
            throw new FieldException("size", size + " is outside 16..1024 (0 = the model's " + info.getImageSize()
                    + ")");
        }
        Requests.imageBudget("top_k", topK, size != 0 ? size : info.getImageSize());
        long seed = r.hasSeed() ? r.getSeed() : Requests.seedOf(id);
        return new Resolved(Tenants.scope(id), id, caption, candidates, topK, seed,
                r.hasParams() ? r.getParams() : null, size);
    }

    public ModelInfo model() {
        return model.get();
    }

    /**
     * Generates the top_k images of a request.
     *
     * @param deadline the caller's deadline; null = now + the default timeout
     * @param progress told each stage's progress (at most every 100 ms per stage, and at each stage's end)
     * @throws io.grpc.StatusRuntimeException with the failing stage's status
     */
    public GenerateResponse generate(GenerateRequest request, Deadline deadline, Consumer<GenerationEvent> progress) {
        long t0 = System.nanoTime();
        Resolved r = resolve(request);
        Deadline d = deadline != null ? deadline : Deadline.after(defaultTimeout.toMillis(), TimeUnit.MILLISECONDS);
        ModelInfo info = model.get();

        TokenizeResponse tokens = clients.tokenizer().withDeadline(d)
                .tokenize(TokenizeRequest.newBuilder().setRequestId(r.requestId()).setCaption(r.caption()).build());
        long t1 = System.nanoTime();
        progress.accept(event(r, Stage.STAGE_TOKENIZER, StageStatus.STAGE_STATUS_SUCCEEDED, 0, r.candidates()));

        SampleRequest.Builder sample = SampleRequest.newBuilder().setRequestId(r.requestId())
                .addAllTextTokens(tokens.getPaddedIdsList()).setCandidates(r.candidates()).setSeed(r.seed())
                .setBundleVersion(tokens.getBundleVersion());
        if (r.params() != null) {
            sample.setParams(r.params());
        }
        CodeGrid[] grids = new CodeGrid[r.candidates()];
        Iterator<SampledCandidate> it = clients.sampler().withDeadline(d).sample(sample.build());
        int done = 0;
        long lastReport = 0;
        while (it.hasNext()) {
            SampledCandidate c = it.next();
            grids[c.getCandidateIndex()] = c.getGrid();
            done++;
            if (done == r.candidates() || System.nanoTime() - lastReport > 100_000_000L) {
                lastReport = System.nanoTime();
                progress.accept(event(r, Stage.STAGE_SAMPLER, done == r.candidates()
                        ? StageStatus.STAGE_STATUS_SUCCEEDED : StageStatus.STAGE_STATUS_RUNNING, done, r.candidates()));
            }
        }
        long t2 = System.nanoTime();
        for (int i = 0; i < grids.length; i++) {
            if (grids[i] == null) {
                throw io.grpc.Status.INTERNAL.withDescription("the sampler ended its stream without candidate " + i
                        + " of " + grids.length).asRuntimeException();
            }
        }

        List<Image> images = new ArrayList<>(r.candidates());
        for (int from = 0; from < r.candidates(); from += Requests.MAX_BATCH) {
            int to = Math.min(r.candidates(), from + Requests.MAX_BATCH);
            DecodeResponse decoded = clients.decoder().withDeadline(d).decode(DecodeRequest.newBuilder()
                    .setRequestId(r.requestId()).addAllGrids(List.of(grids).subList(from, to))
                    .setBundleVersion(tokens.getBundleVersion()).build());
            images.addAll(decoded.getImagesList());
            progress.accept(event(r, Stage.STAGE_DECODER, to == r.candidates()
                    ? StageStatus.STAGE_STATUS_SUCCEEDED : StageStatus.STAGE_STATUS_RUNNING, to, r.candidates()));
        }
        long t3 = System.nanoTime();

        float[] scores = new float[r.candidates()];
        for (int from = 0; from < r.candidates(); from += Requests.MAX_BATCH) {
            int to = Math.min(r.candidates(), from + Requests.MAX_BATCH);
            ScoreResponse s = clients.reranker().withDeadline(d).score(ScoreRequest.newBuilder()
                    .setRequestId(r.requestId()).setCaption(r.caption()).addAllTextTokens(tokens.getPaddedIdsList())
                    .addAllImages(images.subList(from, to)).setBundleVersion(tokens.getBundleVersion()).build());
            for (int i = 0; i < s.getScoresCount(); i++) {
                scores[from + i] = s.getScores(i);
            }
            progress.accept(event(r, Stage.STAGE_RERANKER, to == r.candidates()
                    ? StageStatus.STAGE_STATUS_SUCCEEDED : StageStatus.STAGE_STATUS_RUNNING, to, r.candidates()));
        }
        long t4 = System.nanoTime();

        int[] order = Ranking.order(scores);
        GenerateResponse.Builder out = GenerateResponse.newBuilder().setRequestId(r.clientId()).setSeed(r.seed())
                .setModel(info.toBuilder().setBundleVersion(tokens.getBundleVersion()));
        for (int k = 0; k < r.topK(); k++) {
            int i = order[k];
            out.addImages(RankedImage.newBuilder().setRank(k + 1).setCandidateIndex(i).setScore(scores[i])
                    .setImage(Pngs.resized(images.get(i), r.size())));
        }
        out.setTimings(Timings.newBuilder().setTokenizeMs(ms(t0, t1)).setSampleMs(ms(t1, t2))
                .setDecodeMs(ms(t2, t3)).setRerankMs(ms(t3, t4)).setTotalMs(ms(t0, System.nanoTime())));
        return out.build();
    }

    private static long ms(long from, long to) {
        return (to - from) / 1_000_000L;
    }

    static GenerationEvent event(Resolved r, Stage stage, StageStatus status, int done, int total) {
        return GenerationEvent.newBuilder().setRequestId(r.clientId()).setStage(stage).setStatus(status)
                .setCandidatesDone(done).setCandidatesTotal(total).setTimestampMs(System.currentTimeMillis()).build();
    }
}
