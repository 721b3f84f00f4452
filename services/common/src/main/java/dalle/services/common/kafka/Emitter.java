package dalle.services.common.kafka;

import com.google.protobuf.Message;
import dalle.services.common.TopicSpec;
import dalle.services.common.stage.StageException;
import dalle.v1.GenerationEvent;

/** Where a {@link StageHandler} sends what it computed; thread-safe (the sampler emits from its batcher thread). */
public interface Emitter {

    /** An output record (key = request id). */
    <V extends Message> void send(TopicSpec<V> topic, String requestId, V value);

    /** A status event on generation-events. */
    void event(GenerationEvent event);

    /** The request failed in this stage: a FAILED event with the failure. */
    void fail(String requestId, StageException error);
}
