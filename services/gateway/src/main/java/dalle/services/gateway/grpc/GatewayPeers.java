package dalle.services.gateway.grpc;

import dalle.services.common.stage.StageException;
import dalle.services.gateway.StageClients;
import dalle.services.gateway.auth.GrpcAuth;
import dalle.services.gateway.auth.Tenants;
import dalle.v1.ErrorCode;
import dalle.v1.GatewayGrpc;
import dalle.v1.GetJobRequest;
import dalle.v1.Job;
import dalle.v1.ListJobsRequest;
import dalle.v1.ListJobsResponse;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * GetJob at the gateway replica whose status view holds the job, and ListJobs at every other replica: several replicas
 * share the view's partitions, so a replica asked for a job on another's partition asks that one over gRPC (its
 * advertised address), on behalf of the same caller: the caller's {@code authorization} goes along, so the peer
 * checks the same key and the same tenant sees the same jobs, and {@code dalle-from-peer} makes the peer answer from
 * its own state. One channel per peer, with the stage channels' TLS settings.
 */
public final class GatewayPeers implements dalle.services.gateway.jobs.Jobs.Peers, AutoCloseable {

    private final StageClients.Tls tls;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    public GatewayPeers(StageClients.Tls tls) {
        this.tls = tls;
    }

    @Override
    public Optional<Job> job(String address, String jobId) {
        try {
            return Optional.of(stub(address).getJob(GetJobRequest.newBuilder().setJobId(jobId).build()));
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return Optional.empty();
            }
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "the gateway replica at " + address
                    + " that holds job '" + jobId + "' did not answer: " + e.getStatus(), e);
        }
    }

    @Override
    public ListJobsResponse list(String address, ListJobsRequest request) {
        try {
            return stub(address).listJobs(request);
        } catch (StatusRuntimeException e) {
            throw new StageException(ErrorCode.ERROR_CODE_UNAVAILABLE, "the gateway replica at " + address
                    + " that holds some of the jobs did not answer: " + e.getStatus(), e);
        }
    }

    /** A stub to the peer at {@code address} for the running call's caller, from-peer, 20 s deadline. */
    private GatewayGrpc.GatewayBlockingStub stub(String address) {
        Metadata h = new Metadata();
        h.put(GrpcAuth.FROM_PEER, "1");
        String authorization = Tenants.authorization();
        if (authorization != null) {
            h.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), authorization);
        }
        ManagedChannel ch = channels.computeIfAbsent(address, a -> {
            var b = Grpc.newChannelBuilder(a, tls.credentials()).maxInboundMessageSize(64 << 20);
            if (tls.authority() != null) {
                b.overrideAuthority(tls.authority());
            }
            return b.build();
        });
        return GatewayGrpc.newBlockingStub(ch).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(h))
                .withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
