package dalle.services.reranker.grpc;

import dalle.services.common.grpc.ConnectionAge;
import dalle.services.reranker.config.RerankerConfig;
import io.grpc.ServerBuilder;
import io.quarkus.arc.Unremovable;
import io.vertx.grpc.VertxServerBuilder;
import jakarta.inject.Singleton;
import java.time.Duration;

/** The gRPC server's connection age, {@code dalle.grpc.max-connection-age} (see {@link ConnectionAge}). */
@Singleton
@Unremovable
public class RerankerServerSettings extends ConnectionAge<VertxServerBuilder> {

    private final RerankerConfig config;

    public RerankerServerSettings(RerankerConfig config) {
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
