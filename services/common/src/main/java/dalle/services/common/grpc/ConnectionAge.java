package dalle.services.common.grpc;

import io.grpc.ServerBuilder;
import io.quarkus.grpc.api.ServerBuilderCustomizer;
import io.quarkus.grpc.runtime.config.GrpcServerConfiguration;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A stage server closes each client connection after a maximum age (gracefully: calls in flight get
 * {@link #GRACE} to finish). A client balancing round robin over a headless Service's addresses re-resolves when
 * its connection closes, so replicas that KEDA adds get calls within one age instead of never. Each stage service
 * subclasses this as a bean, with the age from its own configuration.
 *
 * @param <T> the server builder Quarkus customizes (its separate server's Vert.x builder)
 */
public abstract class ConnectionAge<T extends ServerBuilder<T>> implements ServerBuilderCustomizer<T> {

    /** How long calls in flight on an aged connection may still take. */
    public static final Duration GRACE = Duration.ofMinutes(1);

    /** {@code dalle.grpc.max-connection-age} of the service. */
    protected abstract Duration maxConnectionAge();

    /** The Netty builder behind Quarkus's builder, which owns the connection settings. */
    protected abstract ServerBuilder<?> netty(T builder);

    @Override
    public void customize(GrpcServerConfiguration config, T builder) {
        ServerBuilder<?> netty = netty(builder);
        netty.maxConnectionAge(maxConnectionAge().toMillis(), TimeUnit.MILLISECONDS);
        netty.maxConnectionAgeGrace(GRACE.toMillis(), TimeUnit.MILLISECONDS);
    }
}
