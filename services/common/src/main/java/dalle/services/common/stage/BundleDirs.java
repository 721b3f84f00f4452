package dalle.services.common.stage;

import java.nio.file.Path;
import java.util.Optional;

/** Where a service finds its model bundle. */
public final class BundleDirs {

    private BundleDirs() {
    }

    /**
     * {@code dalle.model} when set, else {@code models/tiny} under {@code dalle.home} (the checkout or
     * installation; the working directory when unset).
     */
    public static Path resolve(Optional<String> model, Optional<String> home) {
        return model.map(Path::of).orElse(Path.of(home.orElse("."), "models", "tiny"));
    }
}
