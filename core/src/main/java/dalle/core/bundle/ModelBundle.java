package dalle.core.bundle;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonParseException;
import dalle.core.clip.ContrastiveScorer;
import dalle.core.dvae.Dvae;
import dalle.core.io.CheckpointException;
import dalle.core.io.Checkpoints;
import dalle.core.io.DurableFiles;
import dalle.core.io.SafeTensors;
import dalle.core.tokenizer.BpeTokenizer;
import dalle.core.transformer.DallePrior;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A loaded generator: tokenizer, dVAE, transformer prior and contrastive reranker, checked
 * against the hashes in {@code bundle.json}. Owns an {@link NDManager}; close it to free the models.
 *
 * <p>A stage service loads only its own {@link BundlePart}s ({@link #load(Path, Set)}): the sampler the prior,
 * the decoder the dVAE, the reranker the reranker and the tokenizer, the tokenizer stage the tokenizer alone
 * (no weights, so no libtorch and no NDManager). The other parts' files need not be present; the sizes every
 * stage must agree on come from the manifest ({@link BundleManifest.Sizes}) and are checked against each part
 * that is loaded. Asking for a part that was not loaded is an {@link IllegalStateException} naming it.
 *
 * <p>Layout of a bundle directory:
 * <pre>
 *   bundle.json          manifest (see {@link BundleManifest})
 *   tokenizer.json       Hugging Face tokenizer
 *   dvae/   config.json + model.safetensors
 *   prior/  config.json + model.safetensors
 *   clip/   config.json + model.safetensors
 * </pre>
 */
public final class ModelBundle implements AutoCloseable {

    private final Path dir;
    private final BundleManifest manifest;
    private final BundleManifest.Sizes sizes;
    private final Set<BundlePart> parts;
    private final NDManager manager;       // null when no part holds weights
    private final BpeTokenizer tokenizer;  // null when not loaded, as the three models below
    private final Dvae dvae;
    private final DallePrior prior;
    private final ContrastiveScorer clip;

    private ModelBundle(Path dir, BundleManifest manifest, BundleManifest.Sizes sizes, Set<BundlePart> parts,
                        NDManager manager, BpeTokenizer tokenizer, Dvae dvae, DallePrior prior,
                        ContrastiveScorer clip) {
        this.dir = dir;
        this.manifest = manifest;
        this.sizes = sizes;
        this.parts = Set.copyOf(parts);
        this.manager = manager;
        this.tokenizer = tokenizer;
        this.dvae = dvae;
        this.prior = prior;
        this.clip = clip;
    }

    /**
     * Loads and verifies a whole bundle directory.
     *
     * @throws CheckpointException naming the file and the reason when the manifest is missing or
     *     malformed, a part's hash differs from the manifest, or a model refuses its files
     */
    public static ModelBundle load(Path dir) {
        return load(dir, EnumSet.allOf(BundlePart.class));
    }

    /**
     * Loads and verifies only {@code parts} of a bundle directory; the other parts' files are neither read nor
     * required.
     *
     * @throws CheckpointException naming the file and the reason when the manifest is missing or malformed (or,
     *     for a partial load, has no sizes), a loaded part's hash differs from the manifest, a model refuses its
     *     files, or a loaded part disagrees with the manifest's sizes or with another loaded part
     */
    public static ModelBundle load(Path dir, Set<BundlePart> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("load at least one bundle part");
        }
        BundleManifest manifest = readManifest(dir);
        if (manifest.sizes() == null && !parts.containsAll(EnumSet.allOf(BundlePart.class))) {
            throw new CheckpointException(dir.resolve(BundleManifest.FILE), "the manifest has no \"sizes\" (it was"
                    + " written before stages loaded their own parts), so " + labels(parts) + " cannot be loaded"
                    + " alone; re-assemble the bundle with `dalle bundle assemble` to add them");
        }
        for (BundlePart p : parts) {
            verify(dir, p.of(manifest));
        }
        NDManager manager = parts.stream().anyMatch(BundlePart::neural) ? NDManager.newBaseManager() : null;
        try {
            BpeTokenizer tokenizer = parts.contains(BundlePart.TOKENIZER)
                    ? BpeTokenizer.load(dir.resolve(manifest.tokenizer().path())) : null;
            Dvae dvae = parts.contains(BundlePart.DVAE) ? Dvae.load(dir.resolve(manifest.dvae().path()), manager) : null;
            DallePrior prior = parts.contains(BundlePart.PRIOR)
                    ? DallePrior.load(dir.resolve(manifest.prior().path()), manager) : null;
            ContrastiveScorer clip = parts.contains(BundlePart.CLIP)
                    ? ContrastiveScorer.load(dir.resolve(manifest.clip().path()), manager) : null;
            if (parts.containsAll(EnumSet.allOf(BundlePart.class))) {
                checkCompatible(dir, tokenizer, dvae, prior, clip);
            }
            BundleManifest.Sizes sizes = manifest.sizes() != null ? manifest.sizes() : sizesOf(dvae, prior);
            checkSizes(dir.resolve(BundleManifest.FILE), sizes, tokenizer, dvae, prior, clip);
            return new ModelBundle(dir, manifest, sizes, parts, manager, tokenizer, dvae, prior, clip);
        } catch (RuntimeException e) {
            if (manager != null) {
                manager.close();
            }
            throw e;
        }
    }

    /**
     * Writes a bundle of in-memory models to {@code dir} and returns its manifest.
     *
     * @param storage precision of the stored weights (F16 halves the size; loading converts to fp32)
     */
    public static BundleManifest save(Path dir, String name, String preset, String description,
                                      BpeTokenizer tokenizer, Dvae dvae, DallePrior prior, ContrastiveScorer clip,
                                      SafeTensors.Storage storage) throws IOException {
        checkCompatible(dir, tokenizer, dvae, prior, clip);
        Files.createDirectories(dir);
        tokenizer.save(dir.resolve("tokenizer.json"));
        dvae.save(dir.resolve("dvae"), storage);
        prior.save(dir.resolve("prior"), storage);
        clip.save(dir.resolve("clip"), storage);
        BundleManifest.Part t = part(dir, "tokenizer.json");
        BundleManifest.Part d = part(dir, "dvae");
        BundleManifest.Part p = part(dir, "prior");
        BundleManifest.Part c = part(dir, "clip");
        String version = name + "-" + DurableFiles.sha256(String.join(",", t.sha256(), d.sha256(), p.sha256(), c.sha256())
                .getBytes(StandardCharsets.UTF_8)).substring(0, 12);
        BundleManifest manifest = new BundleManifest(BundleManifest.FORMAT, name, preset, version, t, d, p, c,
                sizesOf(dvae, prior), description);
        Files.writeString(dir.resolve(BundleManifest.FILE), Checkpoints.GSON.toJson(manifest) + "\n");
        return manifest;
    }

    /** The sizes of a dVAE and a prior that fit together (see {@link #checkCompatible}). */
    private static BundleManifest.Sizes sizesOf(Dvae dvae, DallePrior prior) {
        var pc = prior.config();
        return new BundleManifest.Sizes(dvae.config().imageSize(), pc.gridSize(), pc.imageVocab(), pc.textLength(),
                pc.textVocab());
    }

    /** Each loaded part against the manifest's sizes. */
    private static void checkSizes(Path file, BundleManifest.Sizes s, BpeTokenizer tokenizer, Dvae dvae,
                                   DallePrior prior, ContrastiveScorer clip) {
        List<String> problems = new java.util.ArrayList<>();
        if (tokenizer != null && tokenizer.vocabSize() != s.textVocabSize()) {
            problems.add("the tokenizer has " + tokenizer.vocabSize() + " ids, the sizes say " + s.textVocabSize());
        }
        if (dvae != null) {
            var dc = dvae.config();
            if (dc.imageSize() != s.imageSize() || dc.gridSize() != s.gridSize()
                    || dc.codebookSize() != s.imageVocabSize()) {
                problems.add("the dVAE makes " + dc.imageSize() + "px images from a " + dc.gridSize() + "x"
                        + dc.gridSize() + " grid of " + dc.codebookSize() + " codes, the sizes say " + s.imageSize()
                        + "px, " + s.gridSize() + "x" + s.gridSize() + ", " + s.imageVocabSize());
            }
        }
        if (prior != null) {
            var pc = prior.config();
            if (pc.gridSize() != s.gridSize() || pc.imageVocab() != s.imageVocabSize()
                    || pc.textLength() != s.textLength() || pc.textVocab() != s.textVocabSize()) {
                problems.add("the prior reads " + pc.textLength() + " text slots over " + pc.textVocab() + " ids and a "
                        + pc.gridSize() + "x" + pc.gridSize() + " grid of " + pc.imageVocab() + " codes, the sizes say "
                        + s.textLength() + ", " + s.textVocabSize() + ", " + s.gridSize() + "x" + s.gridSize() + ", "
                        + s.imageVocabSize());
            }
        }
        if (clip != null) {
            var cc = clip.config();
            if (cc.imageSize() != s.imageSize() || cc.textVocab() != s.textVocabSize()) {
                problems.add("the reranker reads " + cc.imageSize() + "px images and " + cc.textVocab()
                        + " text ids, the sizes say " + s.imageSize() + "px and " + s.textVocabSize());
            }
        }
        if (tokenizer != null && clip != null && clip.config().padTokenId() != tokenizer.padId()) {
            problems.add("pad ids disagree: tokenizer " + tokenizer.padId() + ", reranker " + clip.config().padTokenId());
        }
        if (!problems.isEmpty()) {
            throw new CheckpointException(file, "the parts do not match the bundle's sizes: " + String.join("; ", problems));
        }
    }

    private static String labels(Set<BundlePart> parts) {
        return String.join(" + ", parts.stream().sorted().map(BundlePart::label).toList());
    }

    private static void checkCompatible(Path dir, BpeTokenizer tokenizer, Dvae dvae, DallePrior prior,
                                        ContrastiveScorer clip) {
        var pc = prior.config();
        var dc = dvae.config();
        var cc = clip.config();
        if (pc.textVocab() != tokenizer.vocabSize() || cc.textVocab() != tokenizer.vocabSize()) {
            throw new CheckpointException(dir, "text vocabularies disagree: tokenizer " + tokenizer.vocabSize()
                    + ", prior " + pc.textVocab() + ", clip " + cc.textVocab());
        }
        if (pc.padTokenId() != tokenizer.padId() || cc.padTokenId() != tokenizer.padId()) {
            throw new CheckpointException(dir, "pad ids disagree: tokenizer " + tokenizer.padId() + ", prior "
                    + pc.padTokenId() + ", clip " + cc.padTokenId());
        }
        if (pc.imageVocab() != dc.codebookSize() || pc.gridSize() != dc.gridSize()) {
            throw new CheckpointException(dir, "prior image tokens (" + pc.imageVocab() + " codes, " + pc.gridSize()
                    + "x" + pc.gridSize() + " grid) do not match the dVAE (" + dc.codebookSize() + " codes, "
                    + dc.gridSize() + "x" + dc.gridSize() + " grid)");
        }
        if (cc.imageSize() != dc.imageSize()) {
            throw new CheckpointException(dir, "reranker image size " + cc.imageSize() + " differs from the dVAE's "
                    + dc.imageSize());
        }
    }

    /** Reads and validates {@code bundle.json} without loading any model. */
    public static BundleManifest readManifest(Path dir) {
        Path file = dir.resolve(BundleManifest.FILE);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(file, "not a model bundle: " + BundleManifest.FILE + " is missing");
        }
        try {
            BundleManifest m = Checkpoints.GSON.fromJson(Files.readString(file), BundleManifest.class);
            if (m == null) {
                throw new CheckpointException(file, "empty manifest");
            }
            return m;
        } catch (IOException | JsonParseException | IllegalArgumentException | NullPointerException e) {
            throw new CheckpointException(file, "malformed bundle manifest: " + e.getMessage(), e);
        }
    }

    private static void verify(Path dir, BundleManifest.Part part) {
        BundleManifest.Part actual = part(dir, part.path());
        if (!actual.sha256().equals(part.sha256())) {
            throw new CheckpointException(dir.resolve(part.path()), "content hash " + actual.sha256()
                    + " differs from the manifest's " + part.sha256() + " (modified or corrupt)");
        }
    }

    /** Hash of a file, or of a directory's regular files (sorted by relative name, name and bytes). */
    static BundleManifest.Part part(Path dir, String relative) {
        Path p = dir.resolve(relative);
        try {
            MessageDigest md = DurableFiles.newSha256();
            if (Files.isDirectory(p)) {
                List<Path> files;
                try (Stream<Path> s = Files.walk(p)) {
                    files = s.filter(Files::isRegularFile).sorted().toList();
                }
                if (files.isEmpty()) {
                    throw new CheckpointException(p, "bundle part is an empty directory");
                }
                for (Path f : files) {
                    md.update(p.relativize(f).toString().getBytes(StandardCharsets.UTF_8));
                    md.update((byte) 0);
                    DurableFiles.update(md, f);
                }
            } else if (Files.isRegularFile(p)) {
                DurableFiles.update(md, p);
            } else {
                throw new CheckpointException(p, "bundle part is missing");
            }
            return new BundleManifest.Part(relative, HexFormat.of().formatHex(md.digest()));
        } catch (IOException e) {
            throw new CheckpointException(p, "cannot read bundle part: " + e.getMessage(), e);
        }
    }

    public Path directory() {
        return dir;
    }

    public BundleManifest manifest() {
        return manifest;
    }

    /** The version every result and metric carries. */
    public String version() {
        return manifest.version();
    }

    /** The sizes every stage agrees on (from the manifest, or the loaded models of an older whole bundle). */
    public BundleManifest.Sizes sizes() {
        return sizes;
    }

    /** The parts this instance loaded. */
    public Set<BundlePart> parts() {
        return parts;
    }

    /** Whether {@code part} was loaded. */
    public boolean has(BundlePart part) {
        return parts.contains(part);
    }

    /** @throws IllegalStateException when no part with weights was loaded */
    public NDManager manager() {
        return require(manager, "a model with weights");
    }

    /** @throws IllegalStateException when the tokenizer was not loaded */
    public BpeTokenizer tokenizer() {
        return require(tokenizer, "the tokenizer");
    }

    /** @throws IllegalStateException when the dVAE was not loaded */
    public Dvae dvae() {
        return require(dvae, "the dVAE");
    }

    /** @throws IllegalStateException when the prior was not loaded */
    public DallePrior prior() {
        return require(prior, "the prior");
    }

    /** @throws IllegalStateException when the reranker was not loaded */
    public ContrastiveScorer clip() {
        return require(clip, "the reranker");
    }

    private <T> T require(T value, String what) {
        if (value == null) {
            throw new IllegalStateException(what + " is not loaded: this bundle " + dir + " was loaded with "
                    + labels(parts) + " only");
        }
        return value;
    }

    @Override
    public void close() {
        if (manager != null) {
            manager.close();
        }
    }
}
