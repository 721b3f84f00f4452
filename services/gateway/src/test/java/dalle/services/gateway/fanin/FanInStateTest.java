package dalle.services.gateway.fanin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.v1.Image;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class FanInStateTest {

    private static List<Integer> indices(FanInState s) {
        return s.best().stream().map(FanInState.Ranked::index).toList();
    }

    @Test
    void keepsTheBestTopKWhateverTheArrivalOrder() {
        Requests req = new Requests("r", 10, 3);
        float[] scores = {0.3f, 0.8f, 0.8f, Float.NaN, 0.1f, 0.95f, -1f, 0.8f, 0.0f, 0.5f};
        Random rng = new Random(3);
        for (int trial = 0; trial < 20; trial++) {
            List<Integer> order = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
            Collections.shuffle(order, rng);
            FanInState s = FanInState.pending(req.context());
            for (int i : order) {
                s = s.with(i, scores[i], Image.getDefaultInstance());
            }
            assertEquals(List.of(5, 1, 2), indices(s), "order " + order);
            assertEquals(10, s.count());
        }
    }

    @Test
    void nanScoresRankLastAsInThePipeline() {
        FanInState s = FanInState.pending(new Requests("r", 2, 2).context());
        s = s.with(0, Float.NaN, Image.getDefaultInstance()).with(1, -5f, Image.getDefaultInstance());
        assertEquals(List.of(1, 0), indices(s));
    }

    @Test
    void serdeRoundTripsPendingAndDoneStates() {
        Requests req = new Requests("r", 512, 2);
        FanInState s = FanInState.pending(req.context()).with(511, 0.5f, req.score(511, 0.5f).getImage())
                .with(3, 0.25f, req.score(3, 0.25f).getImage()).withLastProgress(99);
        FanInState back = FanInState.read(FanInState.write(s));
        assertEquals(s.context(), back.context());
        assertEquals(s.seen(), back.seen());
        assertEquals(s.best(), back.best());
        assertEquals(99, back.lastProgressMs());
        FanInState done = FanInState.read(FanInState.write(FanInState.done(1234)));
        assertTrue(done.isDone());
        assertEquals(1234, done.doneAtMs());
        byte[] bytes = FanInState.write(s);
        assertThrows(SerializationException.class,
                () -> FanInState.read(java.util.Arrays.copyOf(bytes, bytes.length - 3)));
    }
}
