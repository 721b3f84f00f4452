package dalle.core.data;

import dalle.core.image.RgbImage;
import java.util.Objects;

/**
 * One captioned image, as every data source yields it.
 *
 * @param image the image, already at the resolution the reader was asked for
 * @param caption the caption as written (models lower-case it themselves)
 * @param source where it came from (file path, tar member, data set index), for error reports
 */
public record Example(RgbImage image, String caption, String source) {
    public Example {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(caption, "caption");
        Objects.requireNonNull(source, "source");
    }
}
