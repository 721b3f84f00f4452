package dalle.core.data.emoji;

import java.util.Locale;

/**
 * An emoji artwork set as the {@code emoji-datasource-*} npm packages ship it (iamcal/emoji-data): every
 * picture of Unicode's emoji list as a 64×64 RGBA PNG under {@code package/img/<dir>/64/}, described by the
 * package's {@code emoji.json}.
 *
 * <p>The package version and its npm {@code dist.integrity} (SHA-512 of the tarball) are pinned here, so a
 * prepared data set, and every number measured on it, names the exact bytes it came from.
 * The packages' own {@code LICENSE} (MIT) covers the data library; the pictures carry their artists' licences,
 * which the package README states and {@link #licence()} / {@link #attribution()} repeat.
 */
public enum EmojiVendor {
    /** Google's Noto Emoji. */
    GOOGLE("google", "noto emoji", "emoji-datasource-google", "16.0.0",
            "sha512-ZRexfzs7MVoLnmzZmNsO4TKhnAJp5D++Vm6PpUpH/jEQQlemp3l88CjZ+DoZ2faM9R4QxZkOPJCoT8DlPhfQ3A==",
            "Apache-2.0",
            "Noto Emoji by Google (https://github.com/googlefonts/noto-emoji), v2.048, Apache License 2.0"
                    + " (https://www.apache.org/licenses/LICENSE-2.0); pictures as packaged in emoji-datasource-google"
                    + " 16.0.0 by Cal Henderson (iamcal/emoji-data, MIT)."),
    /** Twitter's Twemoji, as continued by the jdecked/twemoji fork. */
    TWITTER("twitter", "twemoji", "emoji-datasource-twitter", "16.0.0",
            "sha512-7F+uCuHH+7Qnrc15P5tnbvKkg9E6tlzi4MnT2uW1RlN4pLYTza6cP/dstIfSDMtpjFLWuZewWg8jBbuL2eyELQ==",
            "CC-BY-4.0",
            "Twemoji graphics by Twitter, Inc and other contributors (https://github.com/jdecked/twemoji), v16.0.1,"
                    + " licensed under CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/); pictures as packaged in"
                    + " emoji-datasource-twitter 16.0.0 by Cal Henderson (iamcal/emoji-data, MIT). Changes: alpha"
                    + " composited onto a plain background; used as training data and shown downsampled in samples.");

    private final String id;
    private final String captionWords;
    private final String npmPackage;
    private final String version;
    private final String integrity;
    private final String licence;
    private final String attribution;

    EmojiVendor(String id, String captionWords, String npmPackage, String version, String integrity, String licence,
                String attribution) {
        this.id = id;
        this.captionWords = captionWords;
        this.npmPackage = npmPackage;
        this.version = version;
        this.integrity = integrity;
        this.licence = licence;
        this.attribution = attribution;
    }

    /** The short name used in options, file names and {@code emoji.json}'s {@code has_img_<id>}: {@code google}. */
    public String id() {
        return id;
    }

    /** How a caption names the artwork set: {@code noto emoji}, {@code twemoji}. */
    public String captionWords() {
        return captionWords;
    }

    public String npmPackage() {
        return npmPackage;
    }

    /** The pinned package version. */
    public String version() {
        return version;
    }

    /** The pinned npm {@code dist.integrity}: {@code sha512-} and the base64 SHA-512 of the tarball. */
    public String integrity() {
        return integrity;
    }

    /** SPDX identifier of the pictures' licence. */
    public String licence() {
        return licence;
    }

    /** The attribution the licence asks for, as one paragraph. */
    public String attribution() {
        return attribution;
    }

    /** Where the 64×64 PNGs are inside the tarball: {@code package/img/google/64/}. */
    public String imageDirectory() {
        return "package/img/" + id + "/64/";
    }

    /**
     * @throws IllegalArgumentException naming the accepted ids when {@code id} is none of them
     */
    public static EmojiVendor of(String id) {
        String lower = id.trim().toLowerCase(Locale.ROOT);
        for (EmojiVendor v : values()) {
            if (v.id.equals(lower)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown emoji vendor '" + id + "' (expected google or twitter)");
    }
}
