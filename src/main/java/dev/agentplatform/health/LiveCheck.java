package dev.agentplatform.health;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/** Liveness probe: the process answers; it checks nothing outside it, so a slow store never restarts the pod. */
@Liveness
@ApplicationScoped
public class LiveCheck implements HealthCheck {

  @Override
  public HealthCheckResponse call() {
    return HealthCheckResponse.named("agent-platform-live").up().build();
  }
}
