package dalle.services.common.stage;

/**
 * A request field outside its limits: INVALID_ARGUMENT over gRPC, a dead letter plus a FAILED event over Kafka,
 * a 400 over HTTP. The message always starts with the field's path, e.g. {@code "caption: must not be blank"}.
 */
public final class FieldException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;
    private final String field;

    /**
     * @param field the offending field as a path, e.g. {@code "params.top_p"} or {@code "grids[3].codes"}
     * @param problem what is wrong with it, without the field name
     */
    public FieldException(String field, String problem) {
        super(field + ": " + problem);
        this.field = field;
    }

    /** The offending field's path. */
    public String field() {
        return field;
    }
}
