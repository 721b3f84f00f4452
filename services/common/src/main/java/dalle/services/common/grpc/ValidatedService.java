package dalle.services.common.grpc;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;

/**
 * A gRPC service as a server should expose it: the generated implementation's methods, with requests that are not
 * valid messages answered INVALID_ARGUMENT ({@link MessageValidation}). The generated {@code *ImplBase} classes
 * bind their methods in a final {@code bindService()}, so each service is exposed through a subclass of this.
 */
public abstract class ValidatedService implements BindableService {

    private final BindableService service;

    protected ValidatedService(BindableService service) {
        this.service = service;
    }

    @Override
    public ServerServiceDefinition bindService() {
        return MessageValidation.wrap(service.bindService());
    }
}
