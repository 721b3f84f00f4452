package dalle.services.gateway;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * Test-only target scheme {@code test-list:///host:port,host:port}: a name that resolves to several addresses, as
 * a headless Service's DNS name does in Kubernetes (this machine's resolver has one address per name). Registered
 * by {@link GatewayFakes}, in the tests only.
 */
public final class ListNameResolverProvider extends NameResolverProvider {

    @Override
    protected boolean isAvailable() {
        return true;
    }

    @Override
    protected int priority() {
        return 5;
    }

    @Override
    public String getDefaultScheme() {
        return "test-list";
    }

    @Override
    public NameResolver newNameResolver(URI target, NameResolver.Args args) {
        if (!"test-list".equals(target.getScheme())) {
            return null;
        }
        List<EquivalentAddressGroup> groups = new ArrayList<>();
        for (String hostPort : target.getPath().substring(1).split(",")) {
            int colon = hostPort.lastIndexOf(':');
            List<SocketAddress> one = List.of(new InetSocketAddress(hostPort.substring(0, colon),
                    Integer.parseInt(hostPort.substring(colon + 1))));
            groups.add(new EquivalentAddressGroup(one));
        }
        return new NameResolver() {
            @Override
            public String getServiceAuthority() {
                return "test-list";
            }

            @Override
            public void start(Listener2 listener) {
                listener.onResult(ResolutionResult.newBuilder().setAddressesOrError(
                        io.grpc.StatusOr.fromValue(groups)).build());
            }

            @Override
            public void shutdown() {
            }
        };
    }
}
