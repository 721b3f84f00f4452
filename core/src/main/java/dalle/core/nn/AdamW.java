package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (decoupled weight decay), applied in place to a module's parameters after a
 * {@code GradientCollector} backward pass. Decay applies only to {@link Parameter.Kind#decayed()}
 * parameters, as in the paper.
 *
 * <p>DJL accumulates gradients across backward calls, so {@link #step} zeroes each gradient
 * after using it. Moments live on {@code manager} in fp32.
 */
public final class AdamW {

    private final Map<String, Parameter> params;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private long t;

    public AdamW(NDManager manager, Map<String, Parameter> params, float beta1, float beta2, float eps,
                 float weightDecay) {
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        params.forEach((name, p) -> {
            m.put(name, manager.zeros(p.array().getShape()));
            v.put(name, manager.zeros(p.array().getShape()));
        });
    }

    /** Number of updates applied so far. */
    public long steps() {
        return t;
    }

    /** One update at learning rate {@code lr}; gradients are read, then zeroed. */
    public void step(float lr) {
        t++;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        float stepSize = (float) (lr * Math.sqrt(bc2) / bc1);
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            Parameter p = e.getValue();
            NDArray w = p.array();
            NDArray mi = m.get(e.getKey());
            NDArray vi = v.get(e.getKey());
            // Temporaries (and the gradient handle) go to a per-parameter sub-manager; only the
            // in-place updates of w, m and v outlive the step.
            try (NDManager tmp = w.getManager().newSubManager()) {
                NDArray g = w.getGradient();
                g.attach(tmp);
                mi.muli(beta1).addi(g.mul(1 - beta1));
                vi.muli(beta2).addi(g.square().muli(1 - beta2));
                if (weightDecay != 0 && p.kind().decayed()) {
                    w.muli(1 - lr * weightDecay);
                }
                NDArray denom = vi.sqrt();
                denom.attach(tmp);
                NDArray update = mi.div(denom.addi(eps * (float) Math.sqrt(bc2)));
                update.attach(tmp);
                w.subi(update.muli(stepSize));
                Gradients.zero(g);
            }
        }
    }

    /** Zeroes every gradient without updating (e.g. after a skipped step), NaN and Inf included. */
    public void zeroGradients() {
        Gradients.zero(params.values());
    }

    /** The optimizer state by parameter name, for checkpoints: {@code name.m}, {@code name.v}. */
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        m.forEach((k, a) -> out.put(k + ".m", a));
        v.forEach((k, a) -> out.put(k + ".v", a));
        return out;
    }

    /** Restores moments and the step count written by {@link #state()}. */
    public void restore(Map<String, NDArray> state, long steps) {
        m.forEach((k, a) -> a.set(state.get(k + ".m").toFloatArray()));
        v.forEach((k, a) -> a.set(state.get(k + ".v").toFloatArray()));
        this.t = steps;
    }
}
