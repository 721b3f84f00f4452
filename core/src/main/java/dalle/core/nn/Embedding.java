package dalle.core.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/** A lookup table: integer ids -> rows of a (count, dim) matrix. */
public final class Embedding extends Module {

    private final Parameter table;

    public Embedding(NDManager manager, SplittableRandom rng, int count, int dim) {
        if (count <= 0 || dim <= 0) {
            throw new IllegalArgumentException("Embedding needs positive sizes, got count=" + count + " dim=" + dim);
        }
        table = parameter("weight", Parameter.Kind.EMBEDDING, normal(manager, rng, 0.02f, new Shape(count, dim)));
    }

    /** (...) int ids -> (..., dim). */
    public NDArray forward(NDArray ids) {
        return ai.djl.nn.core.Embedding.embedding(ids, table.array(), ai.djl.ndarray.types.SparseFormat.DENSE).singletonOrThrow();
    }

    public Parameter table() {
        return table;
    }
}
