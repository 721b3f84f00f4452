package dalle.core.bundle;

import java.util.Objects;

/**
 * {@code bundle.json}: the three models and the tokenizer that make one generator, each with
 * the SHA-256 of its files, and the version every response and metric carries.
 *
 * @param format manifest format, {@link #FORMAT}
 * @param name human name, e.g. {@code tiny-shapes}
 * @param preset the preset the models were built from ({@code tiny}, {@code small}, {@code paper}, or {@code custom})
 * @param version the bundle version: name + the first 12 hex digits of a hash over the part hashes
 * @param tokenizer the {@code tokenizer.json} file (Hugging Face format)
 * @param dvae the dVAE model directory
 * @param prior the transformer prior model directory
 * @param clip the contrastive reranker model directory
 * @param sizes the sizes every stage must agree on, so that a stage holding only its own part still knows them
 *     (null in manifests written before per-stage loading: such a bundle loads only whole)
 * @param description free text: how it was made (untrained, trained on what, for how long)
 */
public record BundleManifest(int format, String name, String preset, String version, Part tokenizer, Part dvae,
                             Part prior, Part clip, Sizes sizes, String description) {

    public static final int FORMAT = 1;
    public static final String FILE = "bundle.json";

    /** A part of the bundle: its path relative to the bundle directory and its content hash. */
    public record Part(String path, String sha256) {
        public Part {
            Objects.requireNonNull(path, "part path");
            Objects.requireNonNull(sha256, "part sha256");
        }
    }

    /**
     * What a stage needs to know of the other parts: the image the dVAE makes, the token grid and codebook it shares
     * with the prior, and the text slots and vocabulary the tokenizer fills for the prior.
     *
     * @param imageSize image side in pixels (dVAE and reranker)
     * @param gridSize image-token grid side (dVAE and prior)
     * @param imageVocabSize dVAE codebook size K (the prior's image vocabulary)
     * @param textLength the prior's text slots, the length the tokenizer pads to
     * @param textVocabSize the BPE vocabulary (tokenizer, prior and reranker)
     */
    public record Sizes(int imageSize, int gridSize, int imageVocabSize, int textLength, int textVocabSize) {
        public Sizes {
            if (imageSize < 1 || gridSize < 1 || imageVocabSize < 1 || textLength < 1 || textVocabSize < 1) {
                throw new IllegalArgumentException("bundle sizes must be positive, got image " + imageSize + ", grid "
                        + gridSize + ", codes " + imageVocabSize + ", text slots " + textLength + ", text vocabulary "
                        + textVocabSize);
            }
        }
    }

    public BundleManifest {
        if (format != FORMAT) {
            throw new IllegalArgumentException("unsupported bundle format " + format + " (this build reads " + FORMAT + ")");
        }
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(tokenizer, "tokenizer part");
        Objects.requireNonNull(dvae, "dvae part");
        Objects.requireNonNull(prior, "prior part");
        Objects.requireNonNull(clip, "clip part");
    }
}
