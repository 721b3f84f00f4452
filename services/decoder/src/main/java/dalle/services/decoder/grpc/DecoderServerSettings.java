package dalle.services.decoder.grpc;

import dalle.services.common.grpc.ConnectionAge;
import dalle.services.decoder.config.DecoderConfig;
import io.grpc.ServerBuilder;
import io.quarkus.arc.Unremovable;
import io.vertx.grpc.VertxServerBuilder;
import jakarta.inject.Singleton;
import java.time.Duration;

/** The gRPC server's connection age, {@code dalle.grpc.max-connection-age} (see {@link ConnectionAge}). */
@Singleton
@Unremovable
public class DecoderServerSettings extends ConnectionAge<VertxServerBuilder> {

    private final DecoderConfig config;

    public DecoderServerSettings(DecoderConfig config) {
        this.config = config;
    }

    @Override
    protected Duration maxConnectionAge() {
        return config.grpc().maxConnectionAge();
    }

    @Override
    protected ServerBuilder<?> netty(VertxServerBuilder builder) {
        return builder.nettyBuilder();
    }
}
