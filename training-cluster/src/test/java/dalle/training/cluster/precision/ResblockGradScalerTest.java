package dalle.training.cluster.precision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class ResblockGradScalerTest {

    private static boolean[] allFinite(int n) {
        boolean[] f = new boolean[n];
        Arrays.fill(f, true);
        return f;
    }

    @Test
    void scalesStartAtReplicasTimes2To13AndGrowByTwoToTheOneThousandthAfterACleanUpdate() {
        ResblockGradScaler s = new ResblockGradScaler(3, 4);
        assertEquals(4 * 8192f, s.scale(0));
        ResblockGradScaler.Decision d = s.update(allFinite(3), true);
        assertTrue(d.apply());
        assertEquals(4 * 8192 * Math.pow(2, 0.001), s.scale(2), 1e-2);
        for (int i = 0; i < 999; i++) {
            s.update(allFinite(3), true);
        }
        assertEquals(2 * 4 * 8192f, s.scale(1), 0.5f, "1000 clean updates double the scale");
    }

    @Test
    void anOverflowInOneResblockShrinksThatScaleOnlyAndSkipsTheUpdate() {
        ResblockGradScaler s = new ResblockGradScaler(4, 1);
        float[] before = s.scales();
        boolean[] flags = allFinite(4);
        flags[2] = false;
        ResblockGradScaler.Decision d = s.update(flags, true);
        assertFalse(d.apply());
        assertArrayEquals(new int[] {2}, d.shrunk());
        assertEquals(before[2] / Math.sqrt(2), s.scale(2), 1e-3);
        assertEquals(before[0], s.scale(0), "a skipped update grows nothing and other blocks keep their scale");
        assertEquals(before[1], s.scale(1));
        assertEquals(before[3], s.scale(3));
        assertEquals(1, s.skipped());
    }

    @Test
    void aResblockShrinksAtMostOncePer125UpdatesButEveryOverflowSkips() {
        ResblockGradScaler s = new ResblockGradScaler(2, 1);
        boolean[] bad = {true, false};
        s.update(bad, true);                      // update 0: shrink
        float once = s.scale(1);
        for (int u = 1; u < 125; u++) {
            assertFalse(s.update(bad, true).apply());
            assertEquals(once, s.scale(1), "no second shrink at update " + u);
        }
        ResblockGradScaler.Decision d = s.update(bad, true); // update 125: allowed again
        assertArrayEquals(new int[] {1}, d.shrunk());
        assertEquals(once / Math.sqrt(2), s.scale(1), 1e-3);
        assertEquals(126, s.skipped());
    }

    @Test
    void scalesAreClampedToReplicasTimes2To7And2To24() {
        ResblockGradScaler s = new ResblockGradScaler(1, 2);
        for (int u = 0; u < 125 * 20; u++) {
            s.update(new boolean[] {false}, true);
        }
        assertEquals(2 * 128f, s.scale(0));
        for (int u = 0; u < 20_000; u++) {
            s.update(new boolean[] {true}, true);
        }
        assertEquals(2 * (float) (1 << 24), s.scale(0));
    }

    @Test
    void nonFiniteGradientsOutsideTheResblocksSkipWithoutShrinking() {
        ResblockGradScaler s = new ResblockGradScaler(2, 1);
        float[] before = s.scales();
        ResblockGradScaler.Decision d = s.update(allFinite(2), false);
        assertFalse(d.apply());
        assertEquals(0, d.shrunk().length);
        assertArrayEquals(before, s.scales());
    }

    @Test
    void aSnapshotRestoresTheScalerExactlyAndRefusesAnotherShape() {
        ResblockGradScaler a = new ResblockGradScaler(3, 2);
        for (int u = 0; u < 7; u++) {
            a.update(new boolean[] {true, u != 2, true}, true);
        }
        ResblockGradScaler b = new ResblockGradScaler(3, 2);
        b.restore(a.snapshot());
        org.junit.jupiter.api.Assertions.assertArrayEquals(a.snapshot(), b.snapshot());
        for (int u = 0; u < 200; u++) {
            boolean[] flags = {u % 50 != 3, u % 70 != 5, true};
            ResblockGradScaler.Decision da = a.update(flags, true);
            ResblockGradScaler.Decision db = b.update(flags, true);
            assertEquals(da.apply(), db.apply());
            org.junit.jupiter.api.Assertions.assertArrayEquals(da.shrunk(), db.shrunk(), "update " + u);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(a.scales(), b.scales());
        assertEquals(a.skipped(), b.skipped());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new ResblockGradScaler(2, 2).restore(a.snapshot()));
    }
}
