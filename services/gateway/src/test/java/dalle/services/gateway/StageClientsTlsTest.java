package dalle.services.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle.services.common.tls.TestCertificates;
import dalle.services.common.tls.TestCertificates.Pem;
import dalle.v1.GetModelInfoRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsServerCredentials;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's stage channels over TLS and mutual TLS, against real gRPC servers with certificates made here
 * (the JDK's keytool; PEM files as a cert-manager Secret holds them): plaintext against a TLS stage fails, TLS
 * with the stage's CA works, a stage that requires client certificates refuses a gateway without one.
 */
class StageClientsTlsTest {

    @TempDir
    static Path dir;
    static Pem server;
    static Pem client;

    @BeforeAll
    static void certificates() throws Exception {
        server = TestCertificates.selfSigned(dir, "stage", "SAN=DNS:localhost,IP:127.0.0.1");
        client = TestCertificates.selfSigned(dir, "gateway", null);
    }

    static Status.Code modelInfo(FakeStages stages, StageClients.Tls tls) {
        String target = "localhost:" + stages.port();
        try (StageClients c = new StageClients(target, target, target, target, tls)) {
            assertEquals(FakeStages.INFO, c.tokenizer().withDeadlineAfter(20, TimeUnit.SECONDS)
                    .getModelInfo(GetModelInfoRequest.getDefaultInstance()));
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    @Test
    void tlsChannelsReachATlsStageAndPlaintextDoesNot() throws Exception {
        try (FakeStages stages = new FakeStages(TlsServerCredentials.create(server.certificate().toFile(),
                server.key().toFile()))) {
            assertEquals(Status.Code.UNAVAILABLE, modelInfo(stages, StageClients.Tls.PLAINTEXT));
            assertEquals(Status.Code.UNAVAILABLE, modelInfo(stages, new StageClients.Tls(true, null, null, null,
                    null)), "the JDK's trust store does not know the stage's certificate");
            assertEquals(Status.Code.OK, modelInfo(stages, new StageClients.Tls(true, server.certificate(), null,
                    null, null)));
        }
    }

    @Test
    void aStageRequiringClientCertificatesAcceptsOnlyAGatewayThatPresentsOne() throws Exception {
        try (FakeStages stages = new FakeStages(TlsServerCredentials.newBuilder()
                .keyManager(server.certificate().toFile(), server.key().toFile())
                .trustManager(client.certificate().toFile())
                .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE).build())) {
            assertEquals(Status.Code.UNAVAILABLE, modelInfo(stages, new StageClients.Tls(true, server.certificate(),
                    null, null, null)));
            assertEquals(Status.Code.OK, modelInfo(stages, new StageClients.Tls(true, server.certificate(),
                    client.certificate(), client.key(), null)));
        }
    }

    @Test
    void badTlsSettingsFailNamingTheKey() {
        IllegalArgumentException half = assertThrows(IllegalArgumentException.class,
                () -> new StageClients.Tls(true, null, client.certificate(), null, null).credentials());
        assertTrue(half.getMessage().contains("dalle.gateway.tls.key"), half.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> new StageClients.Tls(true, dir.resolve("nope.crt"), null, null, null).credentials());
        assertTrue(missing.getMessage().contains("dalle.gateway.tls.trust-certificates"), missing.getMessage());
    }
}
