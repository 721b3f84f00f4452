package dalle.core.data.shapes;

/** The fixed caption lists {@link ShapesDataset#evaluationCaptions} yields for evaluation. */
public enum EvalSet {
    /** One object of a training pair: every training pair without a size, then small, then large. */
    SINGLE_SEEN,
    /** One object of a held-out pair (zero-shot): every held-out pair without a size, then small, then large. */
    SINGLE_HELD_OUT,
    /** Two training-pair objects with their relation, drawn like training captions. */
    RELATION_SEEN,
    /** Two objects with their relation, at least one of a held-out pair (zero-shot). */
    RELATION_HELD_OUT
}
