package dalle.services.app.stage;

import dalle.services.common.stage.StageException;
/**
 * How a service reaches the runtime of a role: the loaded {@link StageRuntime}, or a {@link StageException}
 * (UNAVAILABLE) when the role is off in this process or the bundle is not loaded (yet).
 */
@FunctionalInterface
public interface StageAccess {

    /**
     * @throws StageException UNAVAILABLE, saying why
     */
    StageRuntime require(Role role);
}
