package dalle.services.common.grpc;

import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse.ServingStatus;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The standard gRPC health service ({@code grpc.health.v1.Health}) of a stage: the server as a whole ({@code ""})
 * and each of its services are NOT_SERVING until {@link #serving(boolean)} says otherwise (a model stage: once its
 * part is loaded and warm; the gateway: once its stages agree and its Kafka apps run). Unlike a server that reports
 * SERVING as soon as it listens, a load balancer or {@code grpc_health_probe} never sends work to a cold stage.
 *
 * <p>Check answers NOT_FOUND for a service this server does not have; Watch streams the status now and at every
 * change (SERVICE_UNKNOWN for an unknown service), as the protocol asks.
 */
public class HealthService extends HealthGrpc.HealthImplBase {

    /** SERVICE_UNKNOWN of health.proto (Watch of an unknown service); the stubs at hand predate its name. */
    static final int SERVICE_UNKNOWN = 3;

    private final Set<String> names;
    private final Map<String, ServingStatus> statuses = new ConcurrentHashMap<>();
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();

    private record Watcher(String service, StreamObserver<HealthCheckResponse> observer) {
    }

    /** @param services the fully qualified gRPC service names of this server, e.g. {@code dalle.v1.Sampler} */
    protected HealthService(String... services) {
        this.names = Set.of(services);
        statuses.put("", ServingStatus.NOT_SERVING);
        for (String s : services) {
            statuses.put(s, ServingStatus.NOT_SERVING);
        }
    }

    /** Sets the server and all its services SERVING or NOT_SERVING, and tells every watcher. */
    public void serving(boolean serving) {
        ServingStatus status = serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        statuses.replaceAll((name, old) -> status);
        for (Watcher w : watchers) {
            send(w, status);
        }
    }

    /** The status of {@code service} ("" = the server), or null when this server has no such service. */
    public ServingStatus status(String service) {
        return statuses.get(service);
    }

    /** The services this health service reports on, besides "". */
    public Set<String> services() {
        return names;
    }

    @Override
    public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> response) {
        ServingStatus s = statuses.get(request.getService());
        if (s == null) {
            response.onError(Status.NOT_FOUND.withDescription("unknown service '" + request.getService() + "'")
                    .asRuntimeException());
            return;
        }
        response.onNext(HealthCheckResponse.newBuilder().setStatus(s).build());
        response.onCompleted();
    }

    @Override
    public void watch(HealthCheckRequest request, StreamObserver<HealthCheckResponse> response) {
        Watcher w = new Watcher(request.getService(), response);
        watchers.add(w);
        if (response instanceof ServerCallStreamObserver<HealthCheckResponse> call) {
            call.setOnCancelHandler(() -> watchers.remove(w));
        }
        ServingStatus s = statuses.get(request.getService());
        send(w, s == null ? SERVICE_UNKNOWN : s.getNumber());
    }

    private void send(Watcher w, ServingStatus status) {
        if (statuses.containsKey(w.service())) {
            send(w, status.getNumber());
        }
    }

    private void send(Watcher w, int status) {
        try {
            synchronized (w) {
                w.observer().onNext(HealthCheckResponse.newBuilder().setStatusValue(status).build());
            }
        } catch (RuntimeException cancelled) {
            watchers.remove(w);
        }
    }
}
