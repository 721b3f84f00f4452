package dalle.services.gateway;

import dalle.core.pipeline.Ranking;
import dalle.services.common.stage.FieldException;
import dalle.services.common.stage.Pngs;
import dalle.services.common.stage.Requests;
import dalle.services.gateway.auth.Tenants;
import dalle.v1.CodeGrid;
import dalle.v1.DecodeAndScoreRequest;
import dalle.v1.DecodeAndScoreResponse;
import dalle.v1.DecodeAndScoreTimings;
import dalle.v1.DecodeRequest;
import dalle.v1.DecodeResponse;
import dalle.v1.GenerateRequest;
import dalle.v1.GenerateResponse;
import dalle.v1.GenerationEvent;
import dalle.v1.Hop;
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
import io.grpc.Context;
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
 * travels on every stage call; a stage's error status reaches the caller unchanged. Every call is timed: the
 * response's {@link Timings#getHopsList() hops} say what each one cost beyond the callee's own work.
 */
public final class GatewayCore {

    /**
     * How the grids reach the decoder and the images the reranker. Both give the same images and scores (the same
     * stage code on the same bytes); they differ in what crosses the network.
     */
    public enum SyncPath {
        /**
         * The decoder's DecodeAndScore: it scores through the reranker itself (a call inside the cluster) and returns
         * every score and the images of each chunk's best top_k only; the images never pass through the gateway on
         * their way to the reranker.
         */
        THIN,
        /** The decoder's Decode, then the reranker's Score: every image decoder → gateway → reranker. */
        RELAY
    }

    /** A call's choice of path ({@code dalle-sync-path} header); absent = the gateway's configured one. */
    public static final Context.Key<SyncPath> SYNC_PATH = Context.key("dalle-sync-path");

    private final StageClients clients;
    private final Supplier<ModelInfo> model;
    private final Duration defaultTimeout;
    private final SyncPath syncPath;

    /** As {@link #GatewayCore(StageClients, Supplier, Duration, SyncPath)} on the thin path. */
    public GatewayCore(StageClients clients, Supplier<ModelInfo> model, Duration defaultTimeout) {
        this(clients, model, defaultTimeout, SyncPath.THIN);
    }

    /**
     * @param model the bundle the stages serve (the gateway asks them: {@link StageModels})
     * @param defaultTimeout deadline of a call that has none
     * @param syncPath the path of a call that does not choose one
     */
    public GatewayCore(StageClients clients, Supplier<ModelInfo> model, Duration defaultTimeout, SyncPath syncPath) {
        this.clients = clients;
        this.model = model;
        this.defaultTimeout = defaultTimeout;
        this.syncPath = syncPath;
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
        SyncPath path = SYNC_PATH.get() != null ? SYNC_PATH.get() : syncPath;
        List<Hop> hops = new ArrayList<>();

        TokenizeResponse tokens = clients.tokenizer().withDeadline(d)
                .tokenize(TokenizeRequest.newBuilder().setRequestId(r.requestId()).setCaption(r.caption()).build());
        long t1 = System.nanoTime();
        hops.add(hop("gateway -> tokenizer Tokenize", t0, t1, 0));
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
        hops.add(hop("gateway -> sampler Sample (stream)", t1, t2, 0));
        for (int i = 0; i < grids.length; i++) {
            if (grids[i] == null) {
                throw io.grpc.Status.INTERNAL.withDescription("the sampler ended its stream without candidate " + i
                        + " of " + grids.length).asRuntimeException();
            }
        }

        float[] scores = new float[r.candidates()];
        Image[] images = new Image[r.candidates()]; // thin: only each chunk's best top_k come back
        long[] decodeAndRerank = path == SyncPath.THIN
                ? decodeAndScore(r, d, tokens, grids, scores, images, hops, progress)
                : decodeThenScore(r, d, tokens, grids, scores, images, hops, progress);

        int[] order = Ranking.order(scores);
        GenerateResponse.Builder out = GenerateResponse.newBuilder().setRequestId(r.clientId()).setSeed(r.seed())
                .setModel(info.toBuilder().setBundleVersion(tokens.getBundleVersion()));
        for (int k = 0; k < r.topK(); k++) {
            int i = order[k];
            if (images[i] == null) {
                throw io.grpc.Status.INTERNAL.withDescription("the decoder did not return the image of candidate " + i
                        + ", ranked " + (k + 1)).asRuntimeException();
            }
            out.addImages(RankedImage.newBuilder().setRank(k + 1).setCandidateIndex(i).setScore(scores[i])
                    .setImage(Pngs.resized(images[i], r.size())));
        }
        out.setTimings(Timings.newBuilder().setTokenizeMs(ms(t1 - t0)).setSampleMs(ms(t2 - t1))
                .setDecodeMs(ms(decodeAndRerank[0])).setRerankMs(ms(decodeAndRerank[1]))
                .setTotalMs(ms(System.nanoTime() - t0)).addAllHops(hops));
        return out.build();
    }

    /**
     * The thin path: each chunk's grids to the decoder's DecodeAndScore, which scores through the reranker and
     * returns every score and the images of the chunk's best top_k (among which the request's best top_k are).
     *
     * @return nanoseconds of decoding and of scoring (the decoder's own measures)
     */
    private long[] decodeAndScore(Resolved r, Deadline d, TokenizeResponse tokens, CodeGrid[] grids, float[] scores,
            Image[] images, List<Hop> hops, Consumer<GenerationEvent> progress) {
        long decodeUs = 0;
        long scoreUs = 0;
        for (int from = 0; from < r.candidates(); from += Requests.MAX_BATCH) {
            int to = Math.min(r.candidates(), from + Requests.MAX_BATCH);
            long s = System.nanoTime();
            DecodeAndScoreResponse got = clients.decoder().withDeadline(d).decodeAndScore(DecodeAndScoreRequest
                    .newBuilder().setRequestId(r.requestId()).addAllGrids(List.of(grids).subList(from, to))
                    .setBundleVersion(tokens.getBundleVersion()).setCaption(r.caption())
                    .addAllTextTokens(tokens.getPaddedIdsList()).setTopK(Math.min(r.topK(), to - from)).build());
            long e = System.nanoTime();
            if (got.getScoresCount() != to - from) {
                throw io.grpc.Status.INTERNAL.withDescription("the decoder returned " + got.getScoresCount()
                        + " scores for " + (to - from) + " grids").asRuntimeException();
            }
            for (int i = 0; i < got.getScoresCount(); i++) {
                scores[from + i] = got.getScores(i);
            }
            for (RankedImage kept : got.getImagesList()) {
                images[from + kept.getCandidateIndex()] = kept.getImage();
            }
            DecodeAndScoreTimings t = got.getTimings();
            hops.add(Hop.newBuilder().setName("gateway -> decoder DecodeAndScore").setRoundTripUs((e - s) / 1_000L)
                    .setServerUs(t.getServerUs()).build());
            hops.add(Hop.newBuilder().setName("decoder -> reranker Score").setRoundTripUs(t.getScoreCallUs())
                    .setServerUs(t.getRerankServerUs()).build());
            decodeUs += t.getDecodeUs();
            scoreUs += t.getScoreCallUs();
            StageStatus status = to == r.candidates() ? StageStatus.STAGE_STATUS_SUCCEEDED
                    : StageStatus.STAGE_STATUS_RUNNING;
            progress.accept(event(r, Stage.STAGE_DECODER, status, to, r.candidates()));
            progress.accept(event(r, Stage.STAGE_RERANKER, status, to, r.candidates()));
        }
        return new long[] {decodeUs * 1_000L, scoreUs * 1_000L};
    }

    /**
     * The relay path: each chunk's grids to the decoder's Decode, then every image to the reranker's Score.
     *
     * @return nanoseconds of decoding and of scoring (the gateway's round trips)
     */
    private long[] decodeThenScore(Resolved r, Deadline d, TokenizeResponse tokens, CodeGrid[] grids, float[] scores,
            Image[] images, List<Hop> hops, Consumer<GenerationEvent> progress) {
        long t2 = System.nanoTime();
        for (int from = 0; from < r.candidates(); from += Requests.MAX_BATCH) {
            int to = Math.min(r.candidates(), from + Requests.MAX_BATCH);
            long s = System.nanoTime();
            DecodeResponse decoded = clients.decoder().withDeadline(d).decode(DecodeRequest.newBuilder()
                    .setRequestId(r.requestId()).addAllGrids(List.of(grids).subList(from, to))
                    .setBundleVersion(tokens.getBundleVersion()).build());
            hops.add(hop("gateway -> decoder Decode", s, System.nanoTime(), decoded.getServerUs()));
            for (int i = 0; i < decoded.getImagesCount(); i++) {
                images[from + i] = decoded.getImages(i);
            }
            progress.accept(event(r, Stage.STAGE_DECODER, to == r.candidates()
                    ? StageStatus.STAGE_STATUS_SUCCEEDED : StageStatus.STAGE_STATUS_RUNNING, to, r.candidates()));
        }
        long t3 = System.nanoTime();

        for (int from = 0; from < r.candidates(); from += Requests.MAX_BATCH) {
            int to = Math.min(r.candidates(), from + Requests.MAX_BATCH);
            long s = System.nanoTime();
            ScoreResponse scored = clients.reranker().withDeadline(d).score(ScoreRequest.newBuilder()
                    .setRequestId(r.requestId()).setCaption(r.caption()).addAllTextTokens(tokens.getPaddedIdsList())
                    .addAllImages(List.of(images).subList(from, to)).setBundleVersion(tokens.getBundleVersion())
                    .build());
            hops.add(hop("gateway -> reranker Score", s, System.nanoTime(), scored.getServerUs()));
            for (int i = 0; i < scored.getScoresCount(); i++) {
                scores[from + i] = scored.getScores(i);
            }
            progress.accept(event(r, Stage.STAGE_RERANKER, to == r.candidates()
                    ? StageStatus.STAGE_STATUS_SUCCEEDED : StageStatus.STAGE_STATUS_RUNNING, to, r.candidates()));
        }
        return new long[] {t3 - t2, System.nanoTime() - t3};
    }

    private static Hop hop(String name, long from, long to, long serverUs) {
        return Hop.newBuilder().setName(name).setRoundTripUs((to - from) / 1_000L).setServerUs(serverUs).build();
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000L;
    }


    static GenerationEvent event(Resolved r, Stage stage, StageStatus status, int done, int total) {
        return GenerationEvent.newBuilder().setRequestId(r.clientId()).setStage(stage).setStatus(status)
                .setCandidatesDone(done).setCandidatesTotal(total).setTimestampMs(System.currentTimeMillis()).build();
    }
}
