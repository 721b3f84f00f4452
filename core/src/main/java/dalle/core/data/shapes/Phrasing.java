package dalle.core.data.shapes;

/**
 * The ways the data set phrases a caption. {@code %1$s} and {@code %2$s} stand for the objects
 * with their articles ("a small red circle"), {@code %3$s} for the relation phrase.
 */
public enum Phrasing {
    SINGLE_PLAIN(1, false, "%1$s"),
    /** Uses "one" for the article: "one large blue square". */
    SINGLE_ONE(1, false, "one %1$s"),
    SINGLE_THERE_IS(1, false, "there is %1$s"),
    SINGLE_PICTURE_OF(1, false, "a picture of %1$s"),
    SINGLE_ON_BLACK(1, false, "%1$s on a black background"),
    RELATION_PLAIN(2, true, "%1$s %3$s %2$s"),
    RELATION_THERE_IS(2, true, "there is %1$s %3$s %2$s"),
    RELATION_IMAGE_OF(2, true, "an image of %1$s %3$s %2$s"),
    PAIR_AND(2, false, "%1$s and %2$s"),
    PAIR_PICTURE_OF(2, false, "a picture of %1$s and %2$s"),
    PAIR_ON_BLACK(2, false, "%1$s and %2$s on a black background");

    private final int objectCount;
    private final boolean withRelation;
    private final String template;

    Phrasing(int objectCount, boolean withRelation, String template) {
        this.objectCount = objectCount;
        this.withRelation = withRelation;
        this.template = template;
    }

    /** How many objects captions of this phrasing name. */
    public int objectCount() {
        return objectCount;
    }

    /** Whether this phrasing states the relation between two objects. */
    public boolean withRelation() {
        return withRelation;
    }

    /** Whether this phrasing can say exactly {@code query}. */
    public boolean fits(CaptionQuery query) {
        return query.objects().size() == objectCount && query.relation().isPresent() == withRelation;
    }

    /** The caption text for {@code query}, which must {@link #fits fit} this phrasing. */
    public String write(CaptionQuery query) {
        if (!fits(query)) {
            throw new IllegalArgumentException("phrasing " + this + " cannot say \"" + query.canonical() + "\"");
        }
        ObjectQuery first = query.objects().get(0);
        String a = this == SINGLE_ONE ? first.words() : first.withArticle();
        String b = objectCount == 2 ? query.objects().get(1).withArticle() : "";
        String relation = query.relation().map(Relation::phrase).orElse("");
        return String.format(template, a, b, relation);
    }
}
