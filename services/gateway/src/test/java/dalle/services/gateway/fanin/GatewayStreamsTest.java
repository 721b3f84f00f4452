package dalle.services.gateway.fanin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.TestBroker;
import dalle.v1.GenerationResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's Streams applications come back by themselves; a thread that keeps dying stops its application. */
class GatewayStreamsTest {

    private static void await(BooleanSupplier done, String what) throws InterruptedException {
        long end = System.nanoTime() + TestBroker.TIMEOUT.toNanos();
        while (!done.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertTrue(done.getAsBoolean(), what + " within " + TestBroker.TIMEOUT);
    }

    @Test
    void aFanInThatStopsIsStartedAgainAndKeepsWorking(@TempDir Path state) throws Exception {
        GatewayStreams.Options options = new GatewayStreams.Options(TestBroker.withTopics(), state, "streams-test",
                "streams-test-fan-in", "streams-test-view", Duration.ofMinutes(30), Duration.ofHours(1), Map.of());
        try (GatewayStreams streams = new GatewayStreams(options)) {
            await(streams::running, "both applications running");
            assertEquals(Duration.ZERO, streams.deadFor());
            FanIn first = streams.fanIn();
            first.close(); // as if its threads had died for good
            assertEquals(KafkaStreams.State.NOT_RUNNING, first.state());
            assertTrue(!streams.running() && streams.state().contains("fan-in NOT_RUNNING"), streams.state());
            await(() -> streams.running() && streams.fanIn() != first, "the fan-in started again");
            assertNotSame(first, streams.fanIn());

            Requests req = new Requests("streams-restarted", 2, 1);
            TestBroker.sendAll(List.of(req.record(0, 0.5f), req.record(1, 0.25f)));
            List<GenerationResult> got = FanInTest.results(Set.of(req.id()), 1);
            assertEquals(1, got.size());
            assertEquals(0, got.get(0).getImages(0).getCandidateIndex());
        }
    }

    @Test
    void aStreamThreadIsReplacedThreeTimesInTenMinutesThenTheApplicationShutsDown() {
        StreamsRunner.ThreadReplacements replacements = new StreamsRunner.ThreadReplacements("test");
        for (int i = 0; i < StreamsRunner.ThreadReplacements.MAX; i++) {
            assertEquals(StreamThreadExceptionResponse.REPLACE_THREAD,
                    replacements.decide(new IllegalStateException("died " + i)));
        }
        assertEquals(StreamThreadExceptionResponse.SHUTDOWN_CLIENT,
                replacements.decide(new IllegalStateException("died again")));
    }
}
