package dalle.services.gateway.fanin;

import dalle.v1.CandidateScore;
import dalle.v1.GenerationEvent;
import dalle.v1.GenerationResult;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * What flows between the nodes of the fan-in and status-view topologies once a source record is parsed: a
 * parsed message, or the dead letter of one that could not be. Never serialized (only repartitioned
 * {@link GenerationEvent}s cross a topic), so a sealed Java type is enough.
 */
sealed interface Item permits Item.Score, Item.Event, Item.Result, Item.DeadLetter {

    /**
     * One candidate's score, with the record it came from (to dead-letter it unchanged if it turns out to
     * contradict the request's earlier candidates).
     */
    record Score(CandidateScore score, ConsumerRecord<byte[], byte[]> source) implements Item {
        public Score {
            Objects.requireNonNull(score, "score");
            Objects.requireNonNull(source, "source");
        }
    }

    /** A status event of some stage. */
    record Event(GenerationEvent event) implements Item {
        public Event {
            Objects.requireNonNull(event, "event");
        }
    }

    /** A request's outcome. */
    record Result(GenerationResult result) implements Item {
        public Result {
            Objects.requireNonNull(result, "result");
        }
    }

    /** A record for a {@code <topic>-dlq}, built by {@link dalle.services.common.DeadLetters}. */
    record DeadLetter(ProducerRecord<byte[], byte[]> record) implements Item {
        public DeadLetter {
            Objects.requireNonNull(record, "record");
        }
    }
}
