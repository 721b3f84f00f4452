package dalle.services.gateway.fanin;

import dalle.services.common.DeadLetters;
import dalle.services.common.Topics;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/** Topology endings shared by the applications of this module. */
final class Sinks {

    private Sinks() {
    }

    /**
     * Writes the {@link Item.DeadLetter}s of {@code items} to their {@code <topic>-dlq} (the dlq-source-topic
     * header names the source), keys, values and headers as {@link DeadLetters} built them.
     */
    static void deadLetters(KStream<String, Item> items, String name) {
        items.filter((k, v) -> v instanceof Item.DeadLetter, Named.as(name + "-dead-letters"))
                .process(() -> new Processor<String, Item, byte[], byte[]>() {
                    private ProcessorContext<byte[], byte[]> context;

                    @Override
                    public void init(ProcessorContext<byte[], byte[]> context) {
                        this.context = context;
                    }

                    @Override
                    public void process(Record<String, Item> record) {
                        ProducerRecord<byte[], byte[]> dl = ((Item.DeadLetter) record.value()).record();
                        context.forward(new Record<>(dl.key(), dl.value(), record.timestamp(), dl.headers()));
                    }
                }, Named.as(name + "-dead-letter-records"))
                .to((key, value, ctx) -> Topics.deadLetterTopic(DeadLetters.header(ctx.headers(),
                        DeadLetters.SOURCE_TOPIC)), Produced.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withName(name + "-dlq"));
    }
}
