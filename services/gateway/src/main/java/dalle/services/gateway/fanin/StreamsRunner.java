package dalle.services.gateway.fanin;

import java.io.IOException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;

/** Starts a topology as a {@link KafkaStreams} and waits for RUNNING; closes it leaving the group. */
final class StreamsRunner {

    private StreamsRunner() {
    }

    /**
     * Starts {@code topology} and waits until it runs.
     *
     * @throws IOException when it fails, or is not RUNNING within the timeout (then it is closed); names the
     *     application id and the last state
     */
    static KafkaStreams start(String what, Topology topology, Properties props, Duration timeout)
            throws IOException {
        KafkaStreams streams = new KafkaStreams(topology, props);
        CountDownLatch running = new CountDownLatch(1);
        AtomicReference<Throwable> error = new AtomicReference<>();
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING || now == KafkaStreams.State.ERROR) {
                running.countDown();
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            error.compareAndSet(null, e);
            running.countDown();
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        try {
            boolean ok = running.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!ok || streams.state() != KafkaStreams.State.RUNNING) {
                KafkaStreams.State state = streams.state();
                close(streams, Duration.ofSeconds(10));
                Throwable cause = error.get();
                throw new IOException(what + " (" + props.get("application.id") + ") did not reach RUNNING within "
                        + timeout.toSeconds() + " s; state " + state
                        + (cause == null ? "" : ": " + cause), cause);
            }
        } catch (InterruptedException e) {
            close(streams, Duration.ofSeconds(10));
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + what, e);
        }
        return streams;
    }

    /** Closes, leaving the consumer group so a restarted instance gets its partitions at once. */
    static void close(KafkaStreams streams, Duration timeout) {
        streams.close(new KafkaStreams.CloseOptions().leaveGroup(true).timeout(timeout));
    }
}
