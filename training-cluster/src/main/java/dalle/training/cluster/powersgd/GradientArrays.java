package dalle.training.cluster.powersgd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dalle.core.nn.Gradients;
import dalle.core.nn.Parameter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Moves parameter gradients between DJL and the flat fp32 arrays a {@link GradientAveraging} works
 * on, in the parameters' iteration order. Gradients of any dtype are read as fp32.
 */
public final class GradientArrays {

    private GradientArrays() {}

    /** Each parameter's current gradient as a new fp32 array. */
    public static List<float[]> read(Collection<Parameter> params) {
        List<float[]> out = new ArrayList<>();
        for (Parameter p : params) {
            try (NDManager tmp = p.array().getManager().newSubManager()) {
                NDArray g = p.array().getGradient();
                g.attach(tmp);
                out.add(g.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray());
            }
        }
        return out;
    }

    /**
     * Overwrites each parameter's gradient with {@code values} (same order and sizes): the gradients
     * are zeroed, then {@code Σ ⟨p, v⟩} is back-propagated, which leaves exactly v on each p.
     *
     * <p>Why not write into {@code getGradient()}: a parameter that was never back-propagated into has
     * no gradient tensor, and DJL then hands out a detached zero array, so a write would be lost; and
     * {@code NDArray.set(float[])} makes PyTorch point the tensor at a Java buffer that is freed once
     * the handle is closed (a crash later). Parameters must require gradients.
     */
    public static void write(Collection<Parameter> params, List<float[]> values) {
        if (values.size() != params.size()) {
            throw new IllegalArgumentException(values.size() + " gradients for " + params.size() + " parameters");
        }
        Gradients.zero(params);
        NDManager base = params.iterator().next().array().getManager();
        try (NDManager tmp = base.newSubManager();
             GradientCollector gc = base.getEngine().newGradientCollector()) {
            NDArray total = null;
            int i = 0;
            for (Parameter p : params) {
                float[] v = values.get(i++);
                if (v.length != p.size()) {
                    throw new IllegalArgumentException("gradient of " + p.name() + " has " + v.length
                            + " values, the parameter " + p.size());
                }
                NDArray value = tmp.create(v, p.array().getShape()).toType(p.array().getDataType(), false);
                NDArray product = p.array().mul(value);       // lands on the parameter's manager: move it
                product.attach(tmp);
                NDArray term = product.sum();
                total = total == null ? term : total.add(term);
            }
            gc.backward(total);
        }
    }
}
