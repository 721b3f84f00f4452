package dalle.services.common.grpc;

import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The configuration group of TLS on a service's gRPC channel to another service ({@code <prefix>.enabled},
 * {@code .trust-certificates}, {@code .certificate}, {@code .key}, {@code .authority}; certificates from files, e.g. a
 * cert-manager Secret's {@code ca.crt}, {@code tls.crt}, {@code tls.key} mounted in the pod). Plaintext unless
 * enabled. The gateway's channels to the stages ({@code dalle.gateway.tls}) and the decoder's channel to the reranker
 * ({@code dalle.reranker.tls}) read it.
 */
public interface ClientTlsConfig {

    /** Whether the channel uses TLS; false = plaintext (a server that serves TLS then refuses the channel). */
    @WithDefault("false")
    boolean enabled();

    /** PEM file of the CA certificates the server's certificate must chain to; absent = the JDK's trust store. */
    @WithName("trust-certificates")
    Optional<String> trustCertificates();

    /** PEM certificate chain presented to servers that ask for one (mutual TLS); with {@code key}. */
    Optional<String> certificate();

    /** PEM private key (PKCS#8) of {@code certificate}. */
    Optional<String> key();

    /** The name the server's certificate is checked against, when it is not the target's host name. */
    Optional<String> authority();

    /** These settings as channel credentials' source; {@code prefix} is what error messages name. */
    default ChannelTls channelTls(String prefix) {
        return new ChannelTls(prefix, enabled(), trustCertificates().map(Path::of).orElse(null),
                certificate().map(Path::of).orElse(null), key().map(Path::of).orElse(null));
    }
}
