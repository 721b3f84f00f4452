package dalle.core.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle.core.sampling.ImageSampler.CandidateSpec;
import dalle.core.transformer.PriorConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The decoder rows of a list of candidates: one conditional row per spec, then one unconditional row per guided
 * spec (all text slots padding, fed the same image tokens), each spec with its own {@link Sampler} and its own
 * generator {@link CandidateRng#of(long, int)}.
 */
final class CandidateRows {

    private final PriorConfig config;
    private final List<CandidateSpec> specs;
    private final int[] uncondRow;          // per spec: its unconditional row, or -1
    private final int count;
    private final int[] text;               // (R, Tt) flattened
    private final Sampler[] samplers;
    private final SplittableRandom[] rngs;

    CandidateRows(PriorConfig config, List<CandidateSpec> specs) {
        this.config = config;
        this.specs = specs;
        int n = specs.size();
        int tt = config.textLength();
        uncondRow = new int[n];
        samplers = new Sampler[n];
        rngs = new SplittableRandom[n];
        List<int[]> texts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            CandidateSpec s = specs.get(i);
            texts.add(checkedText(s, i));
            samplers[i] = s.params().sampler();
            rngs[i] = CandidateRng.of(s.seed(), s.candidateIndex());
        }
        int next = n;
        for (int i = 0; i < n; i++) {
            if (specs.get(i).params().guided()) {
                uncondRow[i] = next++;
                int[] pads = new int[tt];
                Arrays.fill(pads, config.padTokenId());
                texts.add(pads);
            } else {
                uncondRow[i] = -1;
            }
        }
        count = next;
        text = new int[count * tt];
        for (int r = 0; r < count; r++) {
            System.arraycopy(texts.get(r), 0, text, r * tt, tt);
        }
    }

    int count() {
        return count;
    }

    /** Text slots of every row on {@code manager}: (R, Tt). */
    NDArray text(NDManager manager) {
        return manager.create(text, new Shape(count, config.textLength()));
    }

    /** Image token k of every row (an unconditional row repeats its spec's token): (R). */
    int[] tokensAt(int[][] codes, int k) {
        int[] out = new int[count];
        for (int i = 0; i < specs.size(); i++) {
            out[i] = codes[i][k];
            if (uncondRow[i] >= 0) {
                out[uncondRow[i]] = codes[i][k];
            }
        }
        return out;
    }

    /** Image tokens 0..k−1 of every row, (R, k) flattened. */
    int[] prefix(int[][] codes, int k) {
        int[] out = new int[count * k];
        for (int i = 0; i < specs.size(); i++) {
            System.arraycopy(codes[i], 0, out, i * k, k);
            if (uncondRow[i] >= 0) {
                System.arraycopy(codes[i], 0, out, uncondRow[i] * k, k);
            }
        }
        return out;
    }

    /**
     * Samples image token k of every spec from {@code logits} (R', imageVocab) flattened, these rows starting at
     * row {@code firstRow}.
     */
    void sampleInto(int[][] codes, int k, float[] logits, int firstRow) {
        int v = config.imageVocab();
        float[] row = new float[v];
        for (int i = 0; i < specs.size(); i++) {
            System.arraycopy(logits, (firstRow + i) * v, row, 0, v);
            if (uncondRow[i] >= 0) {
                float s = specs.get(i).params().guidanceScale();
                int u = (firstRow + uncondRow[i]) * v;
                for (int j = 0; j < v; j++) {
                    row[j] = logits[u + j] + s * (row[j] - logits[u + j]);
                }
            }
            codes[i][k] = samplers[i].sample(row, rngs[i]);
        }
    }

    private int[] checkedText(CandidateSpec s, int index) {
        int[] t = s.text();
        if (t.length != config.textLength()) {
            throw new IllegalArgumentException("candidate " + index + ": text has " + t.length
                    + " slots, the prior expects " + config.textLength());
        }
        for (int id : t) {
            if (id < 0 || id >= config.textVocab()) {
                throw new IllegalArgumentException("candidate " + index + ": text id " + id
                        + " is outside [0, " + config.textVocab() + ")");
            }
        }
        return t;
    }
}
