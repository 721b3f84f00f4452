package dalle.core.data.shapes;

/** A caption the shapes vocabulary cannot read; the message names the caption and the word that failed. */
public final class UnknownCaptionException extends IllegalArgumentException {
    private final String caption;

    UnknownCaptionException(String caption, String problem) {
        super("cannot parse caption \"" + caption + "\": " + problem);
        this.caption = caption;
    }

    /** The caption as given. */
    public String caption() {
        return caption;
    }
}
