package dalle.services.gateway;

import dalle.services.common.stage.StageException;
import dalle.v1.ErrorCode;
import dalle.v1.GetModelInfoRequest;
import dalle.v1.ModelInfo;
import io.grpc.StatusRuntimeException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the gateway knows of the model: it holds none, so it asks every stage which bundle it serves
 * (GetModelInfo) and serves only while all four agree. The sizes it checks requests against (image size, grid,
 * vocabularies, text length) come from the stages' answer.
 */
public final class StageModels {

    private final StageClients clients;
    private volatile ModelInfo agreed;
    private volatile String state = "has not asked the stages which bundle they serve yet";

    public StageModels(StageClients clients) {
        this.clients = clients;
    }

    /**
     * Asks every stage once (5 s each) and records whether they agree.
     *
     * @return true when all four answered with the same bundle version
     */
    public boolean refresh() {
        Map<String, String> versions = new LinkedHashMap<>();
        Map<String, ModelInfo> infos = new LinkedHashMap<>();
        GetModelInfoRequest q = GetModelInfoRequest.getDefaultInstance();
        try {
            infos.put("tokenizer", clients.tokenizer().withDeadlineAfter(5, TimeUnit.SECONDS).getModelInfo(q));
            infos.put("sampler", clients.sampler().withDeadlineAfter(5, TimeUnit.SECONDS).getModelInfo(q));
            infos.put("decoder", clients.decoder().withDeadlineAfter(5, TimeUnit.SECONDS).getModelInfo(q));
            infos.put("reranker", clients.reranker().withDeadlineAfter(5, TimeUnit.SECONDS).getModelInfo(q));
        } catch (StatusRuntimeException e) {
            String missing = java.util.List.of("tokenizer", "sampler", "decoder", "reranker").get(infos.size());
            state = "waiting for the " + missing + ": " + e.getStatus().getCode()
                    + (e.getStatus().getDescription() == null ? "" : " (" + e.getStatus().getDescription() + ")");
            agreed = null;
            return false;
        }
        infos.forEach((stage, info) -> versions.put(stage, info.getBundleVersion()));
        if (versions.values().stream().distinct().count() != 1) {
            state = "the stages serve different bundles: " + versions;
            agreed = null;
            return false;
        }
        agreed = infos.get("sampler");
        state = "serving bundle " + agreed.getBundleVersion();
        return true;
    }

    /** Whether the last check found the four stages agreeing. */
    public boolean agreed() {
        return agreed != null;
    }

    /** What the last check found. */
    public String state() {
        return state;
    }

    /**
     * The bundle the stages agree on.
     *
     * @throws StageException UNAVAILABLE, saying what the last check found, while they do not
     */
    public ModelInfo info() {
        ModelInfo m = agreed;
        if (m == null) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "the gateway " + state);
        }
        return m;
    }
}
