package dalle.core.sampling;

/**
 * How one candidate's tokens are drawn.
 *
 * @param temperature   logits are divided by it; 0 means greedy (argmax), 1 the model's distribution (the paper's setting)
 * @param topK          keep only the k most likely tokens; 0 = off
 * @param topP          keep the smallest set of most likely tokens whose probability reaches p, in (0, 1]; 1 = off
 * @param guidanceScale classifier-free guidance s: logits = uncond + s · (cond − uncond); 1 = off (no unconditional pass)
 */
public record SamplingParams(float temperature, int topK, float topP, float guidanceScale) {

    /** The paper's sampling: temperature 1, no truncation, no guidance. */
    public static final SamplingParams DEFAULT = new SamplingParams(1f, 0, 1f, 1f);

    public SamplingParams {
        if (!Float.isFinite(temperature) || temperature < 0) {
            throw new IllegalArgumentException("temperature " + temperature + " must be finite and >= 0");
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK " + topK + " must be >= 0 (0 = off)");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP " + topP + " must be in (0, 1] (1 = off)");
        }
        if (!Float.isFinite(guidanceScale) || guidanceScale < 0) {
            throw new IllegalArgumentException("guidanceScale " + guidanceScale + " must be finite and >= 0 (1 = off)");
        }
    }

    /** Greedy decoding: always the most likely token. */
    public static SamplingParams greedy() {
        return new SamplingParams(0f, 0, 1f, 1f);
    }

    /** Whether classifier-free guidance is on (an unconditional row is decoded alongside). */
    public boolean guided() {
        return guidanceScale != 1f;
    }

    /** The composed sampler these parameters describe. */
    public Sampler sampler() {
        return Samplers.of(this);
    }
}
