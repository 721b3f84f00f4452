package dalle.services.common.grpc;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request whose bytes are not a valid message of the method's request type is INVALID_ARGUMENT, naming the
 * type. Without this, grpc-java parses the request before any application code runs and answers UNKNOWN
 * ("Application error processing RPC"), a server fault, to what is the client's. Each service applies it in its
 * {@code bindService()}: {@code return MessageValidation.wrap(super.bindService());}.
 */
public final class MessageValidation {

    private MessageValidation() {
    }

    /**
     * The service with its requests read as bytes, then parsed here, where a failure can be answered properly.
     * Method names, types and schema (server reflection) are unchanged.
     */
    public static ServerServiceDefinition wrap(ServerServiceDefinition service) {
        return ServerInterceptors.intercept(ServerInterceptors.useMarshalledMessages(service, BYTES), new Interceptor());
    }

    /** Reads a message's bytes as they are: this cannot fail, so the parse happens later, where it can be answered. */
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("cannot read the request: " + e.getMessage()).withCause(e)
                        .asRuntimeException();
            }
        }
    };

    private static final class Interceptor implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                ServerCallHandler<Q, R> next) {
            ServerCall.Listener<Q> delegate = next.startCall(call, headers);
            String type = requestType(call);
            return new ServerCall.Listener<>() {
                private boolean refused;

                @Override
                public void onMessage(Q message) {
                    if (refused) {
                        return;
                    }
                    try {
                        delegate.onMessage(message);
                    } catch (StatusRuntimeException e) {
                        if (!(message instanceof byte[]) || e.getStatus().getCode() != Status.Code.INTERNAL) {
                            throw e;
                        }
                        refused = true;
                        Throwable cause = e.getStatus().getCause() != null ? e.getStatus().getCause() : e;
                        call.close(Status.INVALID_ARGUMENT.withDescription("the request is not a valid " + type
                                + " message: " + cause.getMessage()), new Metadata());
                    }
                }

                @Override
                public void onHalfClose() {
                    if (!refused) {
                        delegate.onHalfClose();
                    }
                }

                @Override
                public void onCancel() {
                    delegate.onCancel();
                }

                @Override
                public void onComplete() {
                    delegate.onComplete();
                }

                @Override
                public void onReady() {
                    if (!refused) {
                        delegate.onReady();
                    }
                }
            };
        }
    }

    /** {@code dalle.v1.TokenizeRequest} for a method of the Tokenizer service, from its schema where known. */
    private static String requestType(ServerCall<?, ?> call) {
        Object schema = call.getMethodDescriptor().getSchemaDescriptor();
        if (schema instanceof io.grpc.protobuf.ProtoMethodDescriptorSupplier s) {
            return s.getMethodDescriptor().getInputType().getFullName();
        }
        return "request of " + call.getMethodDescriptor().getFullMethodName();
    }
}
