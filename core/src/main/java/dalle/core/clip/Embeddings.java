package dalle.core.clip;

import ai.djl.ndarray.NDArray;

/** Helpers shared by both towers. */
final class Embeddings {

    private Embeddings() {}

    /** (B, E) -> (B, E) rows scaled to unit L2 norm; an all-zero row stays zero. */
    static NDArray l2Normalise(NDArray x) {
        NDArray norm = x.square().sum(new int[] {1}, true).sqrt().clip(1e-6f, Float.MAX_VALUE);   // (B, 1)
        return x.div(norm);
    }
}
