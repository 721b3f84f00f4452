package dalle.core.data.readers;

/** Thrown inside the readers when a record must be skipped; caught by the pass and counted, never escapes. */
final class BadRecord extends Exception {

    /** The {@link ReadStats} counter a skipped record goes to. */
    enum Reason {
        CORRUPT_IMAGE,
        MISSING_CAPTION,
        OVERSIZED_CAPTION,
        MISSING_IMAGE,
        OTHER
    }

    private final Reason reason;

    BadRecord(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    Reason reason() {
        return reason;
    }
}
