package dalle.services.common.stage;

import dalle.v1.ErrorCode;

/** The rule that no image mixes bundles: a caller that names a bundle version must reach a stage serving it. */
public final class BundleVersions {

    private BundleVersions() {
    }

    /**
     * Checks a caller's bundle version against the one this stage serves (empty or null = do not check).
     *
     * @throws StageException FAILED_PRECONDITION when it names another bundle
     */
    public static void check(String callerVersion, String servedVersion) {
        if (callerVersion != null && !callerVersion.isEmpty() && !callerVersion.equals(servedVersion)) {
            throw new StageException(ErrorCode.ERROR_CODE_FAILED_PRECONDITION, "bundle_version " + callerVersion
                    + " differs from this stage's " + servedVersion + " (no mixed-bundle images)");
        }
    }
}
