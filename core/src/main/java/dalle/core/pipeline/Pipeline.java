package dalle.core.pipeline;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.image.RgbImage;
import dalle.core.sampling.ImageSampler;
import dalle.core.sampling.SamplingParams;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * In-process generation: caption → BPE tokens → N image-token grids from the transformer prior
 * → dVAE decoding → contrastive reranking → the best k.
 *
 * <p>Each stage is a public method so that the services call exactly the same code: a stage
 * is written once here and reached in-process, over gRPC and over Kafka with the same result.
 * Work is chunked ({@link #SAMPLE_BATCH} candidates per sampling batch) to bound memory; since
 * every candidate has its own RNG stream, chunking does not change any result. Decoding runs one
 * image per forward pass ({@link #DECODE_BATCH}): a batched convolution can differ in the last bit
 * with the batch's size and the image's position in it, and the services batch whatever a Kafka poll
 * brings, so only a batch of one gives every path the same bytes. Scoring runs up to
 * {@link #SCORE_BATCH} images per pass under {@link StageBatches}' rule (2 to 15 images a pass, a lone
 * image beside a copy of itself), within which an image's score does not depend on the batch; the rule
 * is checked on the loaded reranker before the first batch, and where it does not hold every image is
 * scored beside a copy of itself.
 */
public final class Pipeline {

    /** Candidates sampled together in one batched decoding loop. */
    public static final int SAMPLE_BATCH = 64;
    /**
     * Images decoded or scored per forward pass: one, so that a candidate's image and score do not depend on
     * which other images shared its batch (measured: a score moved by one ulp between batch sizes 5 and 1).
     */
    public static final int DECODE_BATCH = 1;
    /**
     * Most images scored per forward pass ({@link StageBatches}): a pass holds 2 to 15 images, so that a
     * candidate's score does not depend on which other images shared its batch.
     */
    public static final int SCORE_BATCH = StageBatches.MAX;

    /** Progress of a running generation: {@code done} of {@code total} units of {@code stage}. */
    @FunctionalInterface
    public interface Progress {
        void update(String stage, int done, int total);

        Progress NONE = (stage, done, total) -> {};
    }

    private final ModelBundle bundle;
    private final ImageSampler sampler; // null when the bundle was loaded without the prior
    private volatile Boolean scoreBatched;  // StageBatches.invariant for the reranker, checked on first use
    private final AtomicBoolean checkStarted = new AtomicBoolean(); // checkScoreBatchingAhead ran once

    /** Over a whole bundle, or over a stage's parts: each stage method needs only its own part. */
    public Pipeline(ModelBundle bundle) {
        this.bundle = Objects.requireNonNull(bundle, "bundle");
        this.sampler = bundle.has(BundlePart.PRIOR) ? new ImageSampler(bundle.prior()) : null;
    }

    public ModelBundle bundle() {
        return bundle;
    }

    public Generation generate(GenerationRequest request) {
        return generate(request, Progress.NONE);
    }

    /** Runs all four stages for one request. */
    public Generation generate(GenerationRequest request, Progress progress) {
        long t0 = System.nanoTime();
        int[] text = tokenize(request.caption());
        Future<?> check = checkScoreBatchingAhead(text);
        try {
            long t1 = System.nanoTime();
            List<int[]> codes = sample(text, request.candidates(), 0, request.seed(), request.sampling(), progress);
            long t2 = System.nanoTime();
            List<RgbImage> images = decode(codes, progress, stageWorkers());
            long t3 = System.nanoTime();
            float[] scores = score(text, images, progress);
            long t4 = System.nanoTime();
            List<Candidate> ranked = rank(codes, images, scores, 0);
            return new Generation(request.caption(), request.seed(), bundle.version(), ranked, request.topK(),
                    new Generation.Timings(ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t3, t4)));
        } finally {
            if (check != null) {
                awaitUninterruptibly(check); // it ends before the caller may close the bundle (it has, if score ran)
            }
        }
    }

    /** Stage 1: the caption as the prior's padded text slots (lower-cased BPE, pads after); needs the tokenizer. */
    public int[] tokenize(String caption) {
        return bundle.tokenizer().encodePadded(caption, bundle.sizes().textLength());
    }

    /**
     * Stage 2: candidates {@code first .. first+count-1} of a request, each from its own RNG stream.
     *
     * @param text padded text slots from {@link #tokenize}
     * @return per candidate, gridSize² image tokens in raster order
     */
    public List<int[]> sample(int[] text, int count, int first, long seed, SamplingParams params,
                              Progress progress) {
        List<ImageSampler.CandidateSpec> specs = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            specs.add(new ImageSampler.CandidateSpec(text, seed, first + i, params));
        }
        // progress in image tokens over all candidates: a batch of b candidates advances b per step
        ImageSampler sampler = sampler();
        int perCandidate = bundle.prior().config().imageTokens();
        int total = count * perCandidate;
        List<int[]> out = new ArrayList<>(count);
        for (int from = 0; from < count; from += SAMPLE_BATCH) {
            int done = out.size() * perCandidate;
            int size = Math.min(count, from + SAMPLE_BATCH) - from;
            out.addAll(sampler.sample(specs.subList(from, from + size), true,
                    k -> progress.update("sample", done + k * size, total)));
        }
        return out;
    }

    /**
     * Stage 3: image-token grids to images, one per forward pass, on this thread. A stage service calls this: it
     * runs beside the other stages and serves requests in parallel already.
     */
    public List<RgbImage> decode(List<int[]> codes, Progress progress) {
        return decode(codes, progress, 1);
    }

    /**
     * {@link #decode(List, Progress)} with up to {@code workers} passes at once, each image still alone in its
     * pass, so the images are the same whichever thread decoded them. {@link #generate} passes
     * {@link #stageWorkers}: the cores libtorch's intra-op threads leave free.
     */
    public List<RgbImage> decode(List<int[]> codes, Progress progress, int workers) {
        int cells = bundle.dvae().config().gridSize() * bundle.dvae().config().gridSize();
        for (int i = 0; i < codes.size(); i++) {
            if (codes.get(i).length != cells) {
                throw new IllegalArgumentException("codes: candidate " + i + " has " + codes.get(i).length
                        + " tokens, the dVAE expects " + cells);
            }
        }
        RgbImage[] out = new RgbImage[codes.size()];
        AtomicInteger done = new AtomicInteger();
        parallel(codes.size(), workers, i -> {
            out[i] = decodeOne(codes.get(i));
            int n = done.incrementAndGet();
            synchronized (progress) {
                progress.update("decode", n, codes.size());
            }
        });
        return List.of(out);
    }

    private RgbImage decodeOne(int[] code) {
        try (NDManager step = bundle.manager().newSubManager()) {
            long[] flat = new long[code.length];
            for (int j = 0; j < code.length; j++) {
                flat[j] = code[j];
            }
            return RgbImage.unstack(bundle.dvae().decode(step.create(flat, new Shape(1, code.length)))).get(0);
        }
    }

    /**
     * Runs {@code task} for 0..n−1 on up to {@code maxWorkers} threads (this one included) taking the next index in
     * turn; the first failure is rethrown here, after every started task has ended.
     */
    private static void parallel(int n, int maxWorkers, IntConsumer task) {
        int workers = Math.min(n, maxWorkers);
        if (workers <= 1) {
            for (int i = 0; i < n; i++) {
                task.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                task.accept(i);
            }
        };
        List<Future<?>> running = new ArrayList<>();
        for (int w = 1; w < workers; w++) {
            running.add(STAGE_THREADS.submit(worker));
        }
        RuntimeException failure = null;
        try {
            worker.run();                                            // this thread is one of the workers
        } catch (RuntimeException e) {
            failure = e;
            next.set(n);                                             // the others stop after their current item
        }
        for (Future<?> f : running) {
            Throwable e = awaitUninterruptibly(f);
            if (e != null && failure == null) {
                failure = e instanceof RuntimeException re ? re : new IllegalStateException("a stage thread failed", e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Waits for {@code f} to end, whatever interrupts come meanwhile (kept for after); returns its failure, or null. */
    private static Throwable awaitUninterruptibly(Future<?> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    f.get();
                    return null;
                } catch (ExecutionException e) {
                    return e.getCause();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Forward passes of one stage run at once: the cores left over by libtorch's intra-op threads
     * ({@code ai.djl.pytorch.num_threads}; unset means libtorch takes every core, so 1), at least 1.
     */
    public static int stageWorkers() {
        int threads = Integer.getInteger("ai.djl.pytorch.num_threads", 0);
        int cores = Runtime.getRuntime().availableProcessors();
        return threads <= 0 ? 1 : Math.max(1, cores / threads);
    }

    /** Daemon threads for {@link #parallel}; idle ones end after a minute. */
    private static final ExecutorService STAGE_THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "pipeline-stage");
        t.setDaemon(true);
        return t;
    });

    /**
     * Stage 4: the reranker's score of each image against the caption's text slots, in batches under
     * {@link StageBatches}' rule. Images are scored as their 8-bit encoding ({@link RgbImage#quantized8()}),
     * which is what a service receives as PNG: in-process, gRPC and Kafka generations therefore give the same
     * scores and the same order, not only the same PNGs.
     */
    public float[] score(int[] text, List<RgbImage> images, Progress progress) {
        int[] clipText = clipText(text);
        List<float[]> each = StageBatches.run(images, scoreBatched(clipText), chunk -> scoreForward(clipText, chunk),
                done -> progress.update("rerank", done, images.size()));
        float[] scores = new float[images.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = each.get(i)[0];
        }
        return scores;
    }

    /** One forward pass of the reranker: the score of each image's 8-bit encoding, one float[1] per image. */
    private List<float[]> scoreForward(int[] clipText, List<RgbImage> chunk) {
        try (NDManager step = bundle.manager().newSubManager()) {
            float[] s = bundle.clip().score(clipText,
                    RgbImage.stack(step, chunk.stream().map(RgbImage::quantized8).toList()));
            List<float[]> out = new ArrayList<>(s.length);
            for (float v : s) {
                out.add(new float[] {v});
            }
            return out;
        }
    }

    /** The caption's text slots at the reranker's length (cut, or filled with its pad id). */
    int[] clipText(int[] text) {
        int clipLength = bundle.clip().config().textLength();
        int[] clipText = text.length == clipLength ? text : Arrays.copyOf(text, clipLength);
        if (text.length < clipLength) {
            Arrays.fill(clipText, text.length, clipLength, bundle.clip().config().padTokenId());
        }
        return clipText;
    }

    /**
     * Starts the reranker's one-time batching check ({@link #scoreBatched}) on a {@link #STAGE_THREADS} thread, with this
     * caption's text, so that on a machine with a second core it runs while the candidates are sampled instead of
     * inside the first generation's rerank (about 100 ms of 15-image forward passes). {@link #score} then finds it
     * done, or waits for it on the check's lock; if the thread has not started yet, score runs the check itself.
     */
    private Future<?> checkScoreBatchingAhead(int[] text) {
        if (scoreBatched != null || !bundle.has(BundlePart.CLIP) || Runtime.getRuntime().availableProcessors() < 2
                || !checkStarted.compareAndSet(false, true)) {
            return null;
        }
        int[] clipText = clipText(text);
        return STAGE_THREADS.submit(() -> {
            try {
                scoreBatched(clipText);
            } catch (RuntimeException e) {
                // score() runs the check again on its own thread, where the failure reaches the caller
            }
        });
    }

    /**
     * Whether the reranker may score batches here: {@link StageBatches#invariant} on fixed random 8-bit images,
     * once per Pipeline.
     */
    boolean scoreBatched(int[] clipText) {
        Boolean ok = scoreBatched;
        if (ok == null) {
            synchronized (this) {
                if (scoreBatched == null) {
                    int size = bundle.clip().config().imageSize();
                    SplittableRandom rng = new SplittableRandom(0x5eed);
                    List<RgbImage> probe = new ArrayList<>();
                    for (int i = 0; i < StageBatches.MAX; i++) {
                        float[] chw = new float[3 * size * size];
                        for (int j = 0; j < chw.length; j++) {
                            chw[j] = rng.nextInt(256) / 255f;
                        }
                        probe.add(new RgbImage(size, size, chw));
                    }
                    scoreBatched = StageBatches.invariant(probe, chunk -> scoreForward(clipText, chunk));
                }
                ok = scoreBatched;
            }
        }
        return ok;
    }

    /** Orders candidates best first ({@link Ranking}: score descending, ties by lower index). */
    public static List<Candidate> rank(List<int[]> codes, List<RgbImage> images, float[] scores, int firstIndex) {
        List<Candidate> all = new ArrayList<>(codes.size());
        for (int i = 0; i < codes.size(); i++) {
            all.add(new Candidate(firstIndex + i, codes.get(i), images.get(i), scores[i]));
        }
        all.sort(Ranking.bestFirst(Candidate::score, Candidate::index));
        return List.copyOf(all);
    }

    private ImageSampler sampler() {
        if (sampler == null) {
            bundle.prior(); // throws, saying which parts were loaded
        }
        return sampler;
    }

    private static double ms(long from, long to) {
        return (to - from) / 1e6;
    }
}
