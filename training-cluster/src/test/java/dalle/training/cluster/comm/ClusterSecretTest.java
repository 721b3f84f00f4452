package dalle.training.cluster.comm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterSecretTest {

    @Test
    void aMountedFileWithATrailingNewlineAndTheSameTextInTheEnvironmentAreOneSecret(@TempDir Path dir)
            throws IOException {
        Path file = dir.resolve("secret");
        Files.writeString(file, "c2VjcmV0IG9mIHRoZSBqb2IgMTIzNDU2Nzg=\n");
        ClusterSecret fromFile = ClusterSecret.fromEnvironment(Map.of(ClusterSecret.FILE_ENV, file.toString(),
                ClusterSecret.ENV, "ignored: the file comes first"));
        ClusterSecret fromEnv = ClusterSecret.fromEnvironment(Map.of(ClusterSecret.ENV,
                "c2VjcmV0IG9mIHRoZSBqb2IgMTIzNDU2Nzg="));
        byte[] nonce = ClusterSecret.nonce();
        assertArrayEquals(fromFile.mac(nonce), fromEnv.mac(nonce));
        assertFalse(ClusterSecret.same(fromFile.mac(nonce), ClusterSecret.random().mac(nonce)));
    }

    @Test
    void randomSecretsDifferAndTravelAsText() {
        ClusterSecret a = ClusterSecret.random();
        assertNotEquals(a.text(), ClusterSecret.random().text());
        byte[] nonce = ClusterSecret.nonce();
        assertArrayEquals(a.mac(nonce), ClusterSecret.of(a.text()).mac(nonce), "the text is the whole secret");
        assertEquals("ClusterSecret[redacted]", a.toString());
    }

    @Test
    void aMissingOrShortSecretIsRefusedSayingWhatToSet() {
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> ClusterSecret.fromEnvironment(Map.of()));
        assertTrue(none.getMessage().startsWith("no cluster secret: set DALLE_CLUSTER_SECRET_FILE to a file holding it"
                + " or DALLE_CLUSTER_SECRET to its text"), none.getMessage());
        IllegalArgumentException shortOne = assertThrows(IllegalArgumentException.class,
                () -> ClusterSecret.fromEnvironment(Map.of(ClusterSecret.ENV, "hunter2")));
        assertEquals("the cluster secret from $DALLE_CLUSTER_SECRET has 7 bytes; at least 16 are needed"
                + " (e.g. head -c 32 /dev/urandom | base64)", shortOne.getMessage());
        assertFalse(shortOne.getMessage().contains("hunter2"), "the secret is never in a message");
    }
}
