package dalle.services.app.stage;

import dalle.v1.Stage;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** The five roles one process of the application can run, chosen by {@code dalle.roles}. */
public enum Role {
    TOKENIZER(Stage.STAGE_TOKENIZER),
    SAMPLER(Stage.STAGE_SAMPLER),
    DECODER(Stage.STAGE_DECODER),
    RERANKER(Stage.STAGE_RERANKER),
    GATEWAY(Stage.STAGE_GATEWAY);

    private final Stage stage;

    Role(Stage stage) {
        this.stage = stage;
    }

    /** The pipeline stage this role serves. */
    public Stage stage() {
        return stage;
    }

    /** The name used in {@code dalle.roles}: lower case, e.g. "sampler". */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the role computes with the model (all but the gateway). */
    public boolean needsModel() {
        return this != GATEWAY;
    }

    /**
     * Parses {@code dalle.roles}: a comma-separated list of role names, or "all".
     *
     * @throws IllegalArgumentException naming the unknown role and the known ones
     */
    public static Set<Role> parse(String roles) {
        EnumSet<Role> out = EnumSet.noneOf(Role.class);
        for (String part : roles.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (p.isEmpty()) {
                continue;
            }
            if (p.equals("all")) {
                out.addAll(EnumSet.allOf(Role.class));
                continue;
            }
            try {
                out.add(Role.valueOf(p.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("dalle.roles: unknown role '" + part.trim()
                        + "'; known: tokenizer, sampler, decoder, reranker, gateway, all", e);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("dalle.roles: '" + roles + "' names no role");
        }
        return out;
    }
}
