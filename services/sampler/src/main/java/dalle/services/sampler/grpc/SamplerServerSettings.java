package dalle.services.sampler.grpc;

import dalle.services.common.grpc.ConnectionAge;
import dalle.services.sampler.config.SamplerConfig;
import io.grpc.ServerBuilder;
import io.quarkus.arc.Unremovable;
import io.vertx.grpc.VertxServerBuilder;
import jakarta.inject.Singleton;
import java.time.Duration;

/** The gRPC server's connection age, {@code dalle.grpc.max-connection-age} (see {@link ConnectionAge}). */
@Singleton
@Unremovable
public class SamplerServerSettings extends ConnectionAge<VertxServerBuilder> {

    private final SamplerConfig config;

    public SamplerServerSettings(SamplerConfig config) {
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
