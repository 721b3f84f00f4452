package dalle.services.common;

import dalle.core.bundle.BundleManifest;
import dalle.core.bundle.BundlePart;
import dalle.core.bundle.ModelBundle;
import dalle.core.bundle.TestBundles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The stage tests' bundles (exported in dalle-services-common's test-jar): core's small random-weight
 * {@link TestBundles} bundle, written once per test JVM to {@code target/test-bundle}, and copies of it that hold
 * only some parts and bundle.json, as a stage's own bundle directory would.
 */
public final class TestBundleParts {

    private static Path whole;

    private TestBundleParts() {
    }

    /** The whole bundle (all four parts). */
    public static synchronized Path whole() {
        if (whole == null) {
            Path dir = Path.of("target", "test-bundle").toAbsolutePath();
            try {
                TestBroker.deleteTree(dir);
                TestBundles.write(dir);
            } catch (Exception e) {
                throw new IllegalStateException("cannot write the test bundle to " + dir, e);
            }
            whole = dir;
        }
        return whole;
    }

    /** A copy of the bundle with only {@code parts} and bundle.json, under {@code target/test-bundle-<parts>}. */
    public static synchronized Path only(BundlePart... parts) {
        Path src = whole();
        String name = Arrays.stream(parts).map(BundlePart::label).sorted().collect(Collectors.joining("-"));
        Path dir = src.resolveSibling("test-bundle-" + name);
        try {
            TestBroker.deleteTree(dir);
            Files.createDirectories(dir);
            Files.copy(src.resolve(BundleManifest.FILE), dir.resolve(BundleManifest.FILE));
            BundleManifest m = ModelBundle.readManifest(src);
            for (BundlePart p : parts) {
                Path from = src.resolve(p.of(m).path());
                try (Stream<Path> files = Files.walk(from)) {
                    for (Path f : files.sorted(Comparator.naturalOrder()).toList()) {
                        Path to = dir.resolve(src.relativize(f).toString());
                        if (Files.isDirectory(f)) {
                            Files.createDirectories(to);
                        } else {
                            Files.copy(f, to);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }
}
