package dalle.services.gateway.fanin;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.jboss.logging.Logger;

/** Starts a topology as a {@link KafkaStreams} and waits for RUNNING; closes it leaving the group. */
final class StreamsRunner {

    private static final Logger LOG = Logger.getLogger(StreamsRunner.class);

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
        ThreadReplacements replacements = new ThreadReplacements(what);
        streams.setUncaughtExceptionHandler(e -> {
            error.compareAndSet(null, e);
            StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse response = replacements.decide(e);
            if (response != StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD) {
                running.countDown();
            }
            return response;
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

    /**
     * A stream thread that dies is replaced, a few times: an error that keeps coming back shuts the application
     * down instead, and its owner ({@link GatewayStreams}) starts it again after a backoff.
     */
    static final class ThreadReplacements {
        static final int MAX = 3;
        static final Duration WINDOW = Duration.ofMinutes(10);
        private final String what;
        private final ArrayDeque<Long> recent = new ArrayDeque<>();

        ThreadReplacements(String what) {
            this.what = what;
        }

        synchronized StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse decide(Throwable e) {
            long now = System.nanoTime();
            while (!recent.isEmpty() && now - recent.peekFirst() > WINDOW.toNanos()) {
                recent.pollFirst();
            }
            if (recent.size() < MAX) {
                recent.addLast(now);
                LOG.warnf("%s: a stream thread died (%s); replacing it", what, e);
                return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
            }
            LOG.errorf(e, "%s: stream threads died %d times in %d min; shutting the application down to start it anew",
                    what, MAX + 1, WINDOW.toMinutes());
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
    }

    /** Closes, leaving the consumer group so a restarted instance gets its partitions at once. */
    static void close(KafkaStreams streams, Duration timeout) {
        streams.close(new KafkaStreams.CloseOptions().leaveGroup(true).timeout(timeout));
    }
}
