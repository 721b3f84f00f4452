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
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A loaded generator: tokenizer, dVAE, transformer prior and contrastive reranker, checked
 * against the hashes in {@code bundle.json}. Owns an {@link NDManager}; close it to free the models.
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
    private final NDManager manager;
    private final BpeTokenizer tokenizer;
    private final Dvae dvae;
    private final DallePrior prior;
    private final ContrastiveScorer clip;

    private ModelBundle(Path dir, BundleManifest manifest, NDManager manager, BpeTokenizer tokenizer, Dvae dvae,
                        DallePrior prior, ContrastiveScorer clip) {
        this.dir = dir;
        this.manifest = manifest;
        this.manager = manager;
        this.tokenizer = tokenizer;
        this.dvae = dvae;
        this.prior = prior;
        this.clip = clip;
    }

    /**
     * Loads and verifies a bundle directory.
     *
     * @throws CheckpointException naming the file and the reason when the manifest is missing or
     *     malformed, a part's hash differs from the manifest, or a model refuses its files
     */
    public static ModelBundle load(Path dir) {
        BundleManifest manifest = readManifest(dir);
        verify(dir, manifest.tokenizer());
        verify(dir, manifest.dvae());
        verify(dir, manifest.prior());
        verify(dir, manifest.clip());
        NDManager manager = NDManager.newBaseManager();
        try {
            BpeTokenizer tokenizer = BpeTokenizer.load(dir.resolve(manifest.tokenizer().path()));
            Dvae dvae = Dvae.load(dir.resolve(manifest.dvae().path()), manager);
            DallePrior prior = DallePrior.load(dir.resolve(manifest.prior().path()), manager);
            ContrastiveScorer clip = ContrastiveScorer.load(dir.resolve(manifest.clip().path()), manager);
            checkCompatible(dir, tokenizer, dvae, prior, clip);
            return new ModelBundle(dir, manifest, manager, tokenizer, dvae, prior, clip);
        } catch (RuntimeException e) {
            manager.close();
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
                description);
        Files.writeString(dir.resolve(BundleManifest.FILE), Checkpoints.GSON.toJson(manifest) + "\n");
        return manifest;
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

    public NDManager manager() {
        return manager;
    }

    public BpeTokenizer tokenizer() {
        return tokenizer;
    }

    public Dvae dvae() {
        return dvae;
    }

    public DallePrior prior() {
        return prior;
    }

    public ContrastiveScorer clip() {
        return clip;
    }

    @Override
    public void close() {
        manager.close();
    }
}
