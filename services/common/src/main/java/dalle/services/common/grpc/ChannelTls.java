package dalle.services.common.grpc;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How a service's gRPC channel to another service is secured: plaintext, or TLS checking the server's certificate
 * against {@code trustCertificates} (null = the JDK's trust store), presenting {@code certificate} + {@code key}
 * when both are given (mutual TLS). The gateway's channels to the stages and the decoder's channel to the reranker
 * are built from it; {@code prefix} is the configuration prefix its error messages name (e.g.
 * {@code dalle.gateway.tls}).
 */
public record ChannelTls(String prefix, boolean enabled, Path trustCertificates, Path certificate, Path key) {

    /** The credentials of a channel; fails naming the key and file that do not load. */
    public ChannelCredentials credentials() {
        if (!enabled) {
            return InsecureChannelCredentials.create();
        }
        TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
        if (trustCertificates != null) {
            try {
                b.trustManager(trustCertificates.toFile());
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException(prefix + ".trust-certificates " + trustCertificates
                        + " does not load as PEM certificates: " + e.getMessage(), e);
            }
        }
        if ((certificate == null) != (key == null)) {
            throw new IllegalArgumentException(prefix + ".certificate and " + prefix + ".key go together (mutual "
                    + "TLS); only one is set");
        }
        if (certificate != null) {
            try {
                b.keyManager(certificate.toFile(), key.toFile());
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException(prefix + ".certificate " + certificate + " / key " + key
                        + " do not load as a PEM chain and PKCS#8 key: " + e.getMessage(), e);
            }
        }
        return b.build();
    }
}
