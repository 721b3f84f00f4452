package dalle.services.common.stage;

import dalle.core.bundle.BundleManifest;
import dalle.core.bundle.ModelBundle;
import dalle.v1.ModelInfo;

/** The {@link ModelInfo} of a bundle: its version and preset, and the sizes every stage of it agrees on. */
public final class ModelInfos {

    private ModelInfos() {
    }

    /** From a loaded bundle, whole or a stage's parts (the sizes come from its manifest). */
    public static ModelInfo of(ModelBundle bundle) {
        BundleManifest m = bundle.manifest();
        BundleManifest.Sizes s = bundle.sizes();
        return ModelInfo.newBuilder().setBundleVersion(m.version()).setPreset(m.preset() == null ? "" : m.preset())
                .setImageSize(s.imageSize()).setGridSize(s.gridSize()).setTextLength(s.textLength())
                .setTextVocabSize(s.textVocabSize()).setImageVocabSize(s.imageVocabSize()).build();
    }
}
