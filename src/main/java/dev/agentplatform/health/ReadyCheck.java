package dev.agentplatform.health;

import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RuntimeSelection;
import dev.agentplatform.runtime.RuntimeStatus;
import dev.agentplatform.store.PlatformStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/** Readiness probe: this pod's store answers and its runtime can run turns; the reasons are in the data. */
@Readiness
@ApplicationScoped
public class ReadyCheck implements HealthCheck {

  @Inject
  PlatformStore store;

  @Inject
  AgentRuntime runtime;

  @Inject
  RuntimeSelection selection;

  @Override
  public HealthCheckResponse call() {
    HealthCheckResponseBuilder b = HealthCheckResponse.named("agent-platform-ready");
    boolean storeUp;
    try {
      store.ping();
      storeUp = true;
      b.withData("store", store.name() + ": reachable");
    } catch (RuntimeException e) {
      storeUp = false;
      b.withData("store", store.name() + ": " + e.getMessage());
    }
    RuntimeStatus status = runtime.status();
    b.withData("runtime", runtime.name() + ": " + status.reason());
    runtime.sandbox().ifPresent(sandbox -> b.withData("sandbox", sandbox));
    b.withData("runtime-chosen-because", selection.why());
    return b.status(storeUp && status.available()).build();
  }
}
