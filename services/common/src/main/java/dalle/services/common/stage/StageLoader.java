package dalle.services.common.stage;

import dalle.v1.ErrorCode;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stage's model, loaded and warmed up on a background thread when the service starts, so that health endpoints
 * answer (not ready, saying why) while it loads. Until then, or when loading failed, {@link #require()} refuses
 * with UNAVAILABLE and the state; once ready, {@code onReady} runs (start the Kafka stage, flip gRPC health).
 *
 * @param <M> the loaded model (closed by {@link #close()})
 */
public final class StageLoader<M extends AutoCloseable> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StageLoader.class);

    private final String stage;
    private final Function<Consumer<String>, M> load;
    private final Consumer<M> onReady;
    private volatile M model;
    private volatile String state = "not started";
    private volatile boolean closed;

    /**
     * @param stage the stage's name, for messages ("sampler")
     * @param load loads and warms up the model, telling its progress to the given consumer ("loading bundle X");
     *     throws with a message that says what is wrong (a missing bundle, a corrupt part)
     * @param onReady runs on the loader thread once the model is warm, before {@link #ready()} turns true
     */
    public StageLoader(String stage, Function<Consumer<String>, M> load, Consumer<M> onReady) {
        this.stage = Objects.requireNonNull(stage, "stage");
        this.load = Objects.requireNonNull(load, "load");
        this.onReady = Objects.requireNonNull(onReady, "onReady");
    }

    /** Starts loading on a daemon thread named {@code <stage>-loader}. */
    public void start() {
        Thread t = new Thread(this::run, stage + "-loader");
        t.setDaemon(true);
        t.start();
    }

    private void run() {
        long t0 = System.nanoTime();
        try {
            M m = load.apply(s -> state = s);
            if (closed) {
                m.close();
                return;
            }
            onReady.accept(m);
            model = m;
            state = "ready: loaded and warmed up in " + (System.nanoTime() - t0) / 1_000_000 + " ms";
            LOG.info("{} {}", stage, state);
        } catch (Exception | LinkageError e) {
            state = "loading failed: " + e.getMessage();
            LOG.error("{} {}", stage, state, e);
        }
    }

    /** Whether the model is loaded and warm. */
    public boolean ready() {
        return model != null;
    }

    /** What the loader is doing, or why it failed. */
    public String state() {
        return state;
    }

    /**
     * The loaded model.
     *
     * @throws StageException UNAVAILABLE naming the stage and its state while it is not ready
     */
    public M require() {
        M m = model;
        if (m == null) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, stage + " is not ready: " + state);
        }
        return m;
    }

    @Override
    public void close() throws Exception {
        closed = true;
        M m = model;
        model = null;
        if (m != null) {
            m.close();
        }
    }
}
