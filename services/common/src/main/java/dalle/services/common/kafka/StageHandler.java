package dalle.services.common.kafka;

import com.google.protobuf.Message;
import dalle.services.common.TopicSpec;
import dalle.v1.Stage;
import java.util.List;

/**
 * What one Kafka stage does with the records of one poll; {@link KafkaStage} does the consuming, dead-lettering,
 * producing and committing around it.
 *
 * @param <I> the input topic's payload
 * @param <P> a checked input, ready to compute
 */
public interface StageHandler<I extends Message, P> {

    /** The stage, for events and dead-letter headers. */
    Stage stage();

    /** The topic it consumes. */
    TopicSpec<I> input();

    /**
     * Checks one record and prepares it.
     *
     * @param timestampMs the record's timestamp, Unix epoch milliseconds
     * @throws dalle.services.common.stage.FieldException for an invalid record: dead-lettered, FAILED event
     * @throws dalle.services.common.stage.StageException for a record that cannot be served (deadline passed,
     *     another bundle version): FAILED event, not dead-lettered
     */
    P prepare(I record, long timestampMs);

    /** The request id of a prepared record. */
    String requestId(P prepared);

    /**
     * Computes the outputs of the checked records of one poll (in order) and hands them to {@code out}; returns
     * when every output is handed over.
     *
     * @throws InterruptedException when the stage is stopping
     */
    void process(List<P> records, Emitter out) throws InterruptedException;
}
