package dalle.core.bundle;

import java.util.Locale;

/** The parts of a model bundle; a stage service loads only the ones it computes with. */
public enum BundlePart {
    /** {@code tokenizer.json}: the tokenizer stage (and the reranker, for captions sent without tokens). */
    TOKENIZER,
    /** {@code dvae/}: the decoder stage. */
    DVAE,
    /** {@code prior/}: the sampler stage. */
    PRIOR,
    /** {@code clip/}: the reranker stage. */
    CLIP;

    /** This part's entry in a manifest. */
    public BundleManifest.Part of(BundleManifest manifest) {
        return switch (this) {
            case TOKENIZER -> manifest.tokenizer();
            case DVAE -> manifest.dvae();
            case PRIOR -> manifest.prior();
            case CLIP -> manifest.clip();
        };
    }

    /** Whether the part holds weights (and so needs libtorch). */
    public boolean neural() {
        return this != TOKENIZER;
    }

    /** Lower case, as in messages: {@code prior}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
