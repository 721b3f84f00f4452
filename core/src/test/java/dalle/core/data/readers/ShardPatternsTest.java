package dalle.core.data.readers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class ShardPatternsTest {

    @Test
    void braceShardPatternsExpandWithZeroPadding() {
        assertEquals(List.of("d/s-08.tar", "d/s-09.tar", "d/s-10.tar"),
                ShardPatterns.expand("d/s-{08..10}.tar"));
        assertEquals(List.of("a-0.tar", "a-1.tar", "b-0.tar", "b-1.tar"),
                ShardPatterns.expand("{a,b}-{0..1}.tar"));
        assertThrows(IllegalArgumentException.class, () -> ShardPatterns.expand("s-{3..1}.tar"));
        assertThrows(IllegalArgumentException.class, () -> ShardPatterns.expand("s-{0..1.tar"));
    }

    @Test
    void textWithoutBracesIsOneShard() {
        assertEquals(List.of("/data/s-000.tar"), ShardPatterns.expand("/data/s-000.tar"));
    }
}
