package dev.agentplatform.health;

import dev.agentplatform.runtime.AgentRuntime;
import dev.agentplatform.runtime.RuntimeSelection;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Readiness probe: this pod's store answers and its runtime can run turns, as {@link Probes} last found (it
 * asks on a schedule; this check has no side effects); the reasons are in the data.
 */
@Readiness
@ApplicationScoped
public class ReadyCheck implements HealthCheck {

  @Inject
  Probes probes;

  @Inject
  AgentRuntime runtime;

  @Inject
  RuntimeSelection selection;

  @Override
  public HealthCheckResponse call() {
    Probes.Result r = probes.last();
    HealthCheckResponseBuilder b = HealthCheckResponse.named("agent-platform-ready");
    b.withData("store", r.store());
    b.withData("runtime", runtime.name() + ": " + r.runtime().reason());
    if (r.sandbox() != null) {
      b.withData("sandbox", r.sandbox());
    }
    b.withData("runtime-chosen-because", selection.why());
    b.withData("checked-at", r.checkedAt() == 0 ? "not yet" : Instant.ofEpochMilli(r.checkedAt()).toString());
    return b.status(r.storeUp() && r.runtime().available()).build();
  }
}
