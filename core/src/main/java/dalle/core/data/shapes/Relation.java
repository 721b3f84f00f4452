package dalle.core.data.shapes;

/**
 * Where the first object of a pair lies relative to the second, by the dominant axis between
 * their centres: "A left of B" holds when B's centre lies to the right of A's by more than it
 * lies above or below it. Generated scenes keep the other axis at most half the dominant one, so
 * the relation is never borderline.
 */
public enum Relation {
    LEFT_OF("to the left of"),
    RIGHT_OF("to the right of"),
    ABOVE("above"),
    BELOW("below");

    private final String phrase;

    Relation(String phrase) {
        this.phrase = phrase;
    }

    /** The words captions use ("to the left of"). */
    public String phrase() {
        return phrase;
    }

    /** The relation with the two objects swapped: left of ↔ right of, above ↔ below. */
    public Relation inverse() {
        return switch (this) {
            case LEFT_OF -> RIGHT_OF;
            case RIGHT_OF -> LEFT_OF;
            case ABOVE -> BELOW;
            case BELOW -> ABOVE;
        };
    }

    /**
     * Whether the relation holds for a first object at the origin and a second object displaced by
     * {@code (dx, dy)} (image coordinates: y grows downwards; any unit).
     */
    public boolean holds(double dx, double dy) {
        return this == of(dx, dy);
    }

    /** The relation of the first object to a second displaced by {@code (dx, dy)}; ties go vertical. */
    public static Relation of(double dx, double dy) {
        if (Math.abs(dx) > Math.abs(dy)) {
            return dx > 0 ? LEFT_OF : RIGHT_OF;
        }
        return dy > 0 ? ABOVE : BELOW;
    }
}
