package dalle.training.cluster.precision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

class Bf16Test {

    @Test
    void roundsToNearestWithTiesToEven() {
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the tie goes to the even 1.0
        assertEquals(1f, Bf16.round(1f + 0x1p-8f));
        // 1 + 3·2^-8 lies halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up
        assertEquals(1f + 0x1p-6f, Bf16.round(1f + 3 * 0x1p-8f));
        // just above the tie rounds up, just below rounds down
        assertEquals(1f + 0x1p-7f, Bf16.round(Math.nextUp(1f + 0x1p-8f)));
        assertEquals(1f, Bf16.round(Math.nextDown(1f + 0x1p-8f)));
        assertEquals(-3.140625f, Bf16.round(-3.14159265f));
        assertEquals(0f, Bf16.round(0f));
    }

    @Test
    void keepsSpecialValuesAndOverflowsPastTheLargestBf16() {
        assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.POSITIVE_INFINITY));
        assertEquals(Float.NEGATIVE_INFINITY, Bf16.round(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(Bf16.round(Float.NaN)));
        assertTrue(Float.isNaN(Bf16.round(Float.intBitsToFloat(0x7f800001)))); // a NaN whose payload is all low bits
        assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.MAX_VALUE));
    }

    @Test
    void everyRoundedValueHasItsLow16BitsClearAndIsWithinHalfAnUlp() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
        for (int i = 0; i < 10_000; i++) {
            float x = (float) ((rng.nextDouble() - 0.5) * Math.pow(2, rng.nextInt(-40, 40)));
            float r = Bf16.round(x);
            assertEquals(0, Float.floatToRawIntBits(r) & 0xffff, "low bits of " + r);
            assertTrue(Math.abs(r - x) <= Math.abs(x) * 0x1p-8f, x + " -> " + r);
        }
    }

    @Test
    void roundsAnNDArrayThroughItsValuesAndRefusesOtherTypes() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] v = {1.00390625f, -2.7182817f, 1e-20f, 12345.678f};
            NDArray r = Bf16.round(m.create(v, new ai.djl.ndarray.types.Shape(2, 2)), m);
            assertEquals(new ai.djl.ndarray.types.Shape(2, 2), r.getShape());
            assertArrayEquals(Bf16.roundInPlace(v.clone()), r.toFloatArray());
            assertThrows(IllegalArgumentException.class, () -> Bf16.round(m.create(new int[] {1}), m));
        }
    }
}
