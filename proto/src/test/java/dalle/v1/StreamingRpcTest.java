package dalle.v1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * An rpc whose comment has a "Streaming: why" line streams in the descriptor, and a streaming rpc
 * has such a line: the documentation and the contract cannot drift apart.
 */
class StreamingRpcTest {

    private static final String MARKER = "Streaming:";

    @Test
    void rpcsDocumentedAsStreamingAreExactlyTheStreamingOnes() {
        List<String> mismatches = new ArrayList<>();
        TreeSet<String> documented = new TreeSet<>();
        TreeSet<String> inSource = new TreeSet<>();
        for (Path file : ProtoSource.files()) {
            var descriptor = ProtoSource.descriptor(file);
            for (ProtoSource.Declaration rpc : ProtoSource.declarations(file, ProtoSource.lines(file))) {
                if (!rpc.kind().equals("rpc")) {
                    continue;
                }
                String name = rpc.scope() + "." + rpc.name();
                inSource.add(name);
                ServiceDescriptor service = descriptor.findServiceByName(rpc.scope());
                assertNotNull(service, rpc + ": no service " + rpc.scope() + " in " + descriptor.getName());
                MethodDescriptor method = service.findMethodByName(rpc.name());
                assertNotNull(method, rpc + ": no method in the descriptor");
                String why = rpc.comment().stream().filter(l -> l.startsWith(MARKER))
                        .map(l -> l.substring(MARKER.length()).trim()).findFirst().orElse(null);
                boolean streams = method.isServerStreaming() || method.isClientStreaming();
                if (why != null) {
                    documented.add(name);
                }
                if ((why != null) != streams) {
                    mismatches.add(name + (streams ? " streams but its comment has no '" + MARKER + " why' line"
                            : " is documented as streaming but is unary"));
                } else if (why != null && why.length() < 20) {
                    mismatches.add(name + ": '" + MARKER + "' must say why it streams, got '" + why + "'");
                }
            }
        }
        assertEquals(List.of(), mismatches);
        assertTrue(inSource.size() >= 7, "found only the rpcs " + inSource);
        assertEquals(new TreeSet<>(List.of("Gateway.GenerateStream", "Sampler.Sample")), documented);
    }

    @Test
    void generatedStubsStreamFromTheServerWhereTheContractSaysSo() {
        assertEquals(MethodType.SERVER_STREAMING, SamplerGrpc.getSampleMethod().getType());
        assertEquals(MethodType.SERVER_STREAMING, GatewayGrpc.getGenerateStreamMethod().getType());
        assertEquals(MethodType.UNARY, GatewayGrpc.getGenerateMethod().getType());
        assertEquals(MethodType.UNARY, DecoderGrpc.getDecodeMethod().getType());
    }
}
