package dalle.core.eval.emoji;

/** The caption lists of the emoji evaluation; each holds captions of every vendor in the data. */
public enum EmojiEvalSet {
    /** Training pictures of any kind, a seeded sample. */
    SEEN("seen captions"),
    /** Training pictures that are one-tone variations of a gesture: the control for {@link #HELD_OUT_PAIR}. */
    SEEN_PAIR("seen gesture × skin tone"),
    /** Gesture × skin-tone pairs never shown in training (each gesture and each tone shown elsewhere). */
    HELD_OUT_PAIR("held-out gesture × skin tone"),
    /** Emoji never shown in training at all (their words shown in other names); the pictures without a tone. */
    HELD_OUT_NAME("held-out names");

    private final String label;

    EmojiEvalSet(String label) {
        this.label = label;
    }

    /** How the set reads in tables and legends. */
    public String label() {
        return label;
    }
}
