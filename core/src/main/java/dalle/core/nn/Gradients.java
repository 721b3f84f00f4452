package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import java.util.Collection;

/** Operations on the gradients DJL keeps next to each parameter. */
public final class Gradients {

    private Gradients() {}

    /**
     * Sets every gradient to zero, Inf and NaN included. {@code muli(0)} would leave NaN (and turn
     * Inf into NaN), and since DJL accumulates gradients across backward passes, one non-finite
     * step would then poison every later one.
     */
    public static void zero(Collection<Parameter> params) {
        for (Parameter p : params) {
            // the gradient handle and the fill's temporaries go to a scratch manager, closed at once
            try (NDManager tmp = p.array().getManager().newSubManager()) {
                NDArray g = p.array().getGradient();
                g.attach(tmp);
                zero(g);
            }
        }
    }

    /** Fills one gradient (or any array) with zeros in place; temporaries land on its manager. */
    public static void zero(NDArray g) {
        g.set(new NDIndex(":"), 0f);
    }
}
