package dalle.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Global gradient-norm clipping (the paper clips the prior's gradient norm at 4), and clearing gradients.
 * The rule itself, {@link #factor}, is public: the training cluster applies it to sharded fp32 gradients
 * whose norm it measures across workers.
 */
public final class GradientClipping {

    private GradientClipping() {}

    /**
     * The clipping rule: the factor that brings a gradient of global L2 norm {@code norm} down to
     * {@code max} — {@code max / norm} when {@code max > 0} and the norm is finite and above it, else 1
     * (no clipping; a non-finite norm is the caller's to handle).
     */
    public static float factor(double norm, float max) {
        return max > 0 && Double.isFinite(norm) && norm > max ? (float) (max / norm) : 1f;
    }

    /**
     * Measures the global L2 norm of the parameters' gradients and, when it is finite and above
     * {@code max > 0}, scales every gradient in place by {@code max / norm}.
     *
     * @param scratch parent of the sub-manager that holds the gradient handles and temporaries
     * @return the norm before clipping (NaN or infinite when a gradient is not finite)
     */
    static double clip(NDManager scratch, Collection<Parameter> params, float max) {
        try (NDManager tmp = scratch.newSubManager()) {
            List<NDArray> grads = new ArrayList<>(params.size());
            double sumSquares = 0;
            for (Parameter p : params) {
                NDArray g = p.array().getGradient();
                g.attach(tmp);
                grads.add(g);
                sumSquares += g.square().sum().getFloat();
            }
            double norm = Math.sqrt(sumSquares);
            float scale = factor(norm, max);
            if (scale != 1f) {
                for (NDArray g : grads) {
                    g.muli(scale);
                }
            }
            return norm;
        }
    }

    /** Names of the parameters whose gradients hold a NaN or an infinity, in {@code params}' order. */
    static List<String> nonFinite(NDManager scratch, Map<String, Parameter> params) {
        List<String> names = new ArrayList<>();
        try (NDManager tmp = scratch.newSubManager()) {
            params.forEach((name, p) -> {
                NDArray g = p.array().getGradient();
                g.attach(tmp);
                if (g.isNaN().logicalOr(g.isInfinite()).any().getBoolean()) {
                    names.add(name);
                }
            });
        }
        return names;
    }
}
